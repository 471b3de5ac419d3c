"""The ionmd model-file contract, shared by every exporter and read by ``pair_style ionmd``.

A model file is a TorchScript module (or an AOTInductor package, see
:mod:`ionmd.export.aoti`) whose ``forward`` is::

    forward(edge_vec: Tensor[E, 3], edge_index: Tensor[2, E] (int64),
            species: Tensor[N] (int64), nlocal: int) -> Tensor[nlocal]

* ``edge_index[0]`` is the centre (receiving) atom ``i``, ``edge_index[1]`` the
  neighbour (sending) atom ``j``, and ``edge_vec[e] = x_j - x_i`` in Angstrom, taken
  from LAMMPS coordinates (ghost images included), so no cell shifts are needed.
  Every directed pair within the cutoff appears once in each direction.
* ``species`` holds model-internal indices: ``elements[k]`` in the metadata is the
  chemical symbol of index ``k``.
* Nodes ``0 .. nlocal-1`` are the atoms whose energies are wanted; further nodes are
  ghost atoms that only feed messages. The output is the per-atom energy (eV) of the
  first ``nlocal`` nodes, in the model's dtype.

Forces and virial are the caller's job: ``g = dE/d edge_vec`` by autograd, then
``f_i += g, f_j -= g`` and ``W = -sum_e edge_vec (x) g``.

Metadata travels inside the file as the TorchScript extra file ``ionmd/metadata``:
one ``key=value`` per line (simple to parse from C++ without a JSON library).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

FORMAT_VERSION = 1
METADATA_ENTRY = "ionmd/metadata"
SUPPORTED_DTYPES = ("float32", "float64")

# Keys every model file must carry; the C++ loader checks the same list.
REQUIRED_KEYS = (
    "format_version",
    "family",
    "cutoff",
    "num_layers",
    "elements",
    "dtype",
)


@dataclass
class ModelMetadata:
    """What ``pair_style ionmd`` and ``ionmd inspect`` need to know about a model file."""

    family: str
    cutoff: float
    num_layers: int
    elements: list[str]
    dtype: str
    source: str = ""
    source_sha256: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_text(self) -> str:
        """Serialise as ``key=value`` lines (values never contain newlines)."""
        import torch

        from ionmd import __version__

        items = {
            "format_version": str(self.format_version),
            "family": self.family,
            "cutoff": repr(float(self.cutoff)),
            "num_layers": str(int(self.num_layers)),
            "elements": " ".join(self.elements),
            "dtype": self.dtype,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "exporter": f"ionmd {__version__}",
            "torch_version": torch.__version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        items.update(self.extra)
        for key, value in items.items():
            if "\n" in value or "=" in key:
                raise ValueError(f"metadata entry {key!r} cannot be stored: {value!r}")
        return "".join(f"{k}={v}\n" for k, v in items.items())


def parse_metadata(text: str) -> dict[str, str]:
    """Parse the ``key=value`` metadata text of a model file."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"malformed metadata line {line!r}")
        out[key.strip()] = value.strip()
    return out


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file, streamed (checkpoints can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def contract_outputs(module, graphs) -> list:
    """(per-atom energies, dE/d edge_vec) of ``module`` on each ``(edge_vec, edge_index,
    species)`` of ``graphs``, every node local, both float64."""
    import torch

    out = []
    for edge_vec, edge_index, species in graphs:
        vec = edge_vec.detach().clone().requires_grad_(True)
        energy = module(vec, edge_index, species, int(species.shape[0]))
        (grad,) = torch.autograd.grad(energy.sum(), vec)
        out.append((energy.detach().to(torch.float64), grad.to(torch.float64)))
    return out


def check_tolerance(metadata: ModelMetadata) -> float:
    """Largest relative error (:func:`outputs_error`) an export check accepts between a
    written module or package and the eager model of ``metadata``'s dtype."""
    return 1e-9 if metadata.dtype == "float64" else 2e-4


def outputs_error(got, expected, edge_index) -> float:
    """Largest relative error (:func:`ionmd.export.staged.relative_error`, value by value)
    of the node energies, the edge gradients and the atom forces they give, between
    ``got`` and ``expected`` (each ``(energies [N], dE/d edge_vec [E, 3])``); inf where
    the shapes differ. The forces are compared as well because an error of one atom's
    force may be small beside each of its edges' gradients."""
    from ionmd.export.staged import relative_error

    worst = 0.0
    for a, b in zip(got, expected):
        if a.shape != b.shape:
            return float("inf")
        worst = max(worst, relative_error(a, b))
    n = int(expected[0].shape[0])
    return max(worst, relative_error(atom_forces(got[1], edge_index, n),
                                     atom_forces(expected[1], edge_index, n)))


def atom_forces(edge_grad, edge_index, num_nodes: int):
    """Forces [N, 3] on the nodes from ``dE/d edge_vec`` (edge_vec = x_j - x_i):
    ``F_i = sum g`` over the edges of centre i, ``- sum g`` over those of neighbour j."""
    import torch

    grad = edge_grad.to(torch.float64)
    forces = torch.zeros((num_nodes, 3), dtype=torch.float64, device=grad.device)
    forces.index_add_(0, edge_index[0], grad)
    return forces.index_add_(0, edge_index[1], -grad)


class EagerReference:
    """Energies and edge forces of the eager contract model on small random graphs,
    taken before it is compiled (e3nn's compile replaces submodules in place), against
    which the exporters check their final module before writing it (MACE's and SevenNet's
    build functions; :func:`save_torchscript` with ``reference``)."""

    def __init__(self, eager, metadata: ModelMetadata, *, max_elements: int | None = None):
        from ionmd.export.staged import metadata_graphs

        self.graphs = metadata_graphs(metadata, max_elements=max_elements, seed=1)
        self.rtol = check_tolerance(metadata)
        self.eager = eager
        try:
            self.expected = contract_outputs(eager, self.graphs)
        except Exception:
            # some mace-torch blocks run only in TorchScript (GatedEquivariantBlock adds a
            # list to a torch.Size): then the reference is taken at check time, from the
            # model with the submodules e3nn compiled in place
            self.expected = None

    def mismatch(self, module) -> float:
        """Largest relative difference of ``module``'s energies, edge gradients and forces
        from the eager model's (:func:`outputs_error`), TorchScript run as the plugin runs
        it (:func:`ionmd._ops.torchscript_as_the_plugin`)."""
        from ionmd._ops import torchscript_as_the_plugin

        with torchscript_as_the_plugin():
            outputs = contract_outputs(module, self.graphs)
        worst = 0.0
        for expected, got, (_, edge_index, _) in zip(self.expected, outputs, self.graphs):
            worst = max(worst, outputs_error(got, expected, edge_index))
        return worst

    def check(self, module, what: str = "the exported model") -> None:
        """Raise ExportError unless ``module`` (scripted, frozen) runs and gives the eager
        model's energies and forces."""
        from ionmd.errors import ExportError

        if self.expected is None:
            try:
                self.expected = contract_outputs(self.eager, self.graphs)
            except Exception as exc:
                raise ExportError(f"{what} fails on a test graph, compiled or not "
                                  f"({type(exc).__name__}: {_last_line(exc)}): nothing was "
                                  "written; please report it with the model's layout") from exc
        try:
            worst = self.mismatch(module)
        except Exception as exc:
            raise ExportError(
                f"{what} fails on a test graph in TorchScript ({type(exc).__name__}: "
                f"{_last_line(exc)}) "
                "although the eager model runs: nothing was written; please report it with "
                "the model's layout") from exc
        if not worst <= self.rtol:
            raise ExportError(
                f"{what} disagrees with the eager model by {worst:.3g} (relative error of "
                f"an energy or force on a test graph, allowed {self.rtol:g}): nothing was "
                "written; "
                "please report it with the model's layout")


def _last_line(exc: BaseException) -> str:
    """The last line of an error (TorchScript puts the cause below its traceback)."""
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def save_torchscript(module, path: str | Path, metadata: ModelMetadata,
                     reference: EagerReference | None = None) -> Path:
    """Script-compiled ``module`` + metadata -> ``path`` (a TorchScript archive).

    With ``reference``, ``module`` is first run on its test graphs and must reproduce the
    eager model's energies and forces (:meth:`EagerReference.check`); otherwise nothing
    is written. The file is written whole or not at all (:mod:`ionmd.export.written_whole`):
    a save that fails leaves a file at ``path`` as it was."""
    import torch

    from ionmd.errors import ExportError
    from ionmd.export.written_whole import left_as_it_was, written_whole

    if reference is not None:
        reference.check(module, f"the {metadata.family} export")
    path = Path(path)
    try:
        with written_whole(path) as scratch:
            torch.jit.save(module, str(scratch),
                           _extra_files={METADATA_ENTRY: metadata.to_text()})
    except Exception as exc:       # a full disk, a module TorchScript cannot serialise
        raise ExportError(f"the {metadata.family} export could not be saved "
                          f"({type(exc).__name__}: {_last_line(exc)}): "
                          f"{left_as_it_was(path)}") from exc
    return path


def refuse_other_lammps_exports(path: Path, names: list[str]) -> None:
    """Refuse, saying what it is, a TorchScript file SevenNet or MACE wrote for its own
    LAMMPS pair style (the plugin's ``refuse_other_lammps_exports`` reads the same records):
    it carries no ionmd metadata and takes other inputs, and ``ionmd export`` needs the
    model it was made from."""
    from ionmd.errors import ModelFileError

    def has(record: str) -> bool:
        return any(n.endswith(record) for n in names)

    if has("extra/chemical_symbols_to_index") and has("extra/model_type"):
        raise ModelFileError(
            f"model file {path} is a SevenNet model deployed for SevenNet's own 'pair_style "
            "e3gnn' (sevenn_get_model), not an ionmd model file; `ionmd export sevennet` needs "
            "the original checkpoint (checkpoint_best.pth, or a pretrained name such as "
            "7net-0): `ionmd export sevennet CHECKPOINT.pth -o model.pt`")
    if has("code/__torch__/mace/calculators/lammps_mace.py"):
        raise ModelFileError(
            f"model file {path} is a MACE model converted for MACE's own 'pair_style mace' "
            "(create_lammps_model), not an ionmd model file; `ionmd export mace` needs the "
            "original MACE model (the .model file training wrote): `ionmd export mace "
            "FILE.model -o model.pt`")


def _not_ionmd(path: Path) -> str:
    """Why ``path``, an archive without ionmd metadata, is refused: what it is and the
    ``ionmd export`` command that makes a model file of it, where its content says
    (:func:`ionmd.export.model_names.export_hint`: a SevenNet checkpoint, a MACE
    ``.model``, ...). Before, every such file was told to "re-export the model with `ionmd
    export ...`", also a training checkpoint never exported (``ionmd bench``, ``inspect``,
    a campaign's ``models``; audit A23)."""
    from ionmd.export.model_names import export_hint

    hint = export_hint(path, then="then use")
    if hint:
        return f"{path} has no ionmd metadata: {hint}"
    return (f"{path} has no ionmd metadata: it was not written by `ionmd export` "
            "(re-export the model with `ionmd export ...`)")


def read_metadata(path: str | Path) -> dict[str, str]:
    """Read the metadata of an ionmd model file without building the model.

    Works for both formats: TorchScript archives carry it as the extra file
    ``ionmd/metadata``; AOTInductor packages as the entry ``ionmd_metadata`` of the
    package metadata (``*_metadata.json``). The returned dict gains ``file_format``.

    Raises
    ------
    ModelFileError
        If the file is missing, is not a model archive, or has no ionmd metadata.
    """
    import json
    import zipfile

    from ionmd.errors import ModelFileError

    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"model file {path} is a directory, not a model file: give the "
                             "path of the file `ionmd export ... -o FILE` wrote")
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            script = [n for n in names if n.endswith("extra/" + METADATA_ENTRY)]
            if not script:
                refuse_other_lammps_exports(path, names)
            if script:
                text, file_format = zf.read(script[0]).decode(), "torchscript"
            else:
                text, file_format, compiled_for = None, "aoti", None
                for name in names:
                    if "/aotinductor/" in name and name.endswith("_metadata.json"):
                        pkg = json.loads(zf.read(name))
                        text = pkg.get("ionmd_metadata", text)
                        compiled_for = pkg.get("AOTI_DEVICE_KEY", compiled_for)
                if text is None:
                    raise ModelFileError(_not_ionmd(path))
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(f"{path} is not an ionmd model file, or it is truncated ({exc})") from exc
    meta = parse_metadata(text)
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelFileError(f"{path}: metadata lacks {', '.join(missing)}")
    meta["file_format"] = file_format
    if file_format == "aoti" and compiled_for:
        meta["compiled_for"] = compiled_for      # "cpu" or "cuda": the package runs only there
    return meta
