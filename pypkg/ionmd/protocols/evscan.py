"""E-V scan (MLIP Arena's E-V scan benchmark, AQVolt26 Table 1): single points of a
structure whose cell is scaled uniformly, and their analysis (:mod:`ev_analysis`: the
paper's single-well verdict and Spearman coefficients, ionmd's stricter checks as flags,
a third-order Birch-Murnaghan fit).

How the strain s scales the cell (``strain``):

* ``"lattice"`` (the default): every lattice vector by (1 + s), V/V0 = (1 + s)^3, as the
  paper's "+-20 % in all lattice parameters" and MLIP Arena's E-V scan
  (``mlip_arena/tasks/ev.py``: ``c0 * (1 + s)``, 21 points, no relaxation): 0.512-1.728 V0
  for the ev-scan preset's max_strain 0.2.
* ``"volume"``: V/V0 = 1 + s, each vector by (1 + s)^(1/3), as MLIP Arena's *equation of
  state* benchmark (which relaxes each point; ionmd does not): 0.8-1.2 V0.
"""

from __future__ import annotations

import string
import subprocess
from pathlib import Path
from typing import Callable

import numpy as np

from ionmd import strict_json
from ionmd.analysis.run_files import SETTINGS, STATUS
from ionmd.errors import IonmdError
from ionmd.lammps.data_file import write_data
from ionmd.lammps.log import error_lines
from ionmd.lammps.module_runner import ModuleRun, check_module_runner
from ionmd.lammps.process import find_lammps
from ionmd.protocols.checks import check_protocol
from ionmd.protocols.ev_analysis import EVResult, analyse_ev
from ionmd.protocols.prepare import element_order, run_cell
from ionmd.protocols.presets import Protocol

STRAINS = {"lattice": lambda s: 1.0 + s, "volume": lambda s: (1.0 + s) ** (1.0 / 3.0)}
# how each strain scales the cell, as the written input's header says it
STRAIN_TEXT = {"lattice": "lattice strain: each lattice vector scaled by 1 + s, V/V0 = (1 + s)^3",
               "volume": "volume strain: V/V0 = 1 + s, each lattice vector scaled by "
                         "(1 + s)^(1/3)"}


def strain_values(protocol: Protocol) -> np.ndarray:
    """The strains s of a scan: ``n_points`` from -max_strain to +max_strain."""
    return np.linspace(-protocol.max_strain, protocol.max_strain, protocol.n_points)


def cell_factor(strain: str) -> Callable[[float], float]:
    """The factor each lattice vector is scaled by at strain s, for ``strain`` (a key of
    :data:`STRAINS`)."""
    if strain not in STRAINS:
        raise IonmdError(f"unknown E-V strain {strain!r}: use 'lattice' (every lattice vector "
                         f"by 1 + s, the paper's and MLIP Arena's E-V scan) or 'volume' "
                         f"(V by 1 + s)")
    return STRAINS[strain]


def write_ev_scan(protocol: Protocol, structure, model: str | Path, out: str | Path,
                  name: str = "structure", in_run_cell: bool = False,
                  strain: str = "lattice") -> Path:
    """Write one data file per strain and the LAMMPS input of the scan to
    ``OUT/<name>/<model>/<protocol>``; returns that folder. Nothing is run. ``strain``:
    how s scales the cell (module docstring).

    The folder's ``settings.json`` records what the scan is (protocol, strain, model,
    structure):
    the same command again redoes it there; other settings (more points, another model of
    the same file name) are refused rather than written over its ``ev.json``.
    """
    from ionmd.protocols.md_input import INPUTS
    from ionmd.protocols.run_settings import (model_hashes, reopen_with_settings,
                                              replace_json, structure_hash)

    check_protocol(protocol)
    factor = cell_factor(strain)
    model = Path(model)
    atoms = run_cell(protocol, structure, in_run_cell)
    elements = element_order(atoms, model, name)
    path = Path(out) / name / model.stem / protocol.name
    # a folder written before the strain was recorded scaled the volume: refused, not redone
    settings = {"protocol": protocol.to_dict(), "strain": strain, "model": str(model.resolve()),
                **model_hashes(model), "structure": name,
                "structure_hash": structure_hash(atoms), "elements": elements}
    if not reopen_with_settings(path, settings, "E-V scan folder"):
        path.mkdir(parents=True, exist_ok=True)
        replace_json(path / SETTINGS, settings)
    (path / "ev.txt").unlink(missing_ok=True)
    files = []
    for i, s in enumerate(strain_values(protocol)):
        strained = atoms.copy()
        strained.set_cell(atoms.cell * factor(s), scale_atoms=True)
        files.append(f"ev.{i:03d}.data")
        write_data(strained, path / files[-1], elements)
    template = Path(protocol.template) if protocol.template else INPUTS / "ev.lmp"
    body = _without_leading_comments(template.read_text())
    strains = strain_values(protocol)
    (path / "in.ev.lmp").write_text(scan_header(name, template, strain, strains, files)
                                    + string.Template(body).substitute(
        data_files=" ".join(files), model=str(model.resolve()), elements=" ".join(elements)))
    return path


def _without_leading_comments(text: str) -> str:
    """A template without its leading comment block, which describes the template (the
    default's: lattice strain, 'listed in $data_files'), not this scan; the filled-in text
    made it false (a volume scan said 'scaled by 1 + s', the placeholder became the list)."""
    lines = text.splitlines(keepends=True)
    n = next((i for i, ln in enumerate(lines) if not ln.lstrip().startswith("#")), len(lines))
    return "".join(lines[n:])


def scan_header(name: str, template: Path, strain: str, strains: np.ndarray,
                files: list[str]) -> str:
    """The written input's leading comments: what this scan is (its strain mode and
    range, its data files), in place of its template's."""
    return (f"# ionmd E-V scan of {name} (AQVolt26 Table 1): single-point energies, no "
            f"relaxation, from the template {template}\n"
            f"# {STRAIN_TEXT[strain]}; s = {strains[0]:g} .. {strains[-1]:g} in "
            f"{len(strains)} points\n"
            f"# one data file per strain, {files[0]} .. {files[-1]} (the index variable f)\n")


def run_ev_scan(protocol: Protocol, structure, model: str | Path, out: str | Path,
                name: str = "structure", nprocs: int = 1, runner: str = "subprocess",
                dry_run: bool = False, in_run_cell: bool = False,
                strain: str = "lattice") -> EVResult | None:
    """Write the scan (:func:`write_ev_scan`), run it through one LAMMPS call (``lmp``, or
    the ``lammps`` module in this process with ``runner="module"``), analyse, and write
    ``ev.json`` (with the strain mode and the strains) plus ``status.json`` (the paper's
    verdict as ``ev_failed``/``reasons``, ionmd's checks as ``flags``). ``dry_run``: write
    the inputs only, return None."""
    from ionmd.protocols.execute import RUNNERS

    if runner not in RUNNERS:
        raise IonmdError(f"unknown runner {runner!r}; choose one of {', '.join(RUNNERS)}")
    if runner == "module" and nprocs > 1:
        raise IonmdError(f"the module runner runs LAMMPS in this Python process on one rank; "
                         f"for --np {nprocs} use --runner subprocess (mpirun -np N lmp)")
    path = write_ev_scan(protocol, structure, model, out, name, in_run_cell, strain)
    if dry_run:
        return None
    if runner == "module":
        check_module_runner()
        returncode = ModuleRun(path, "in.ev.lmp", "log.lammps", path / "screen.txt").wait()
        output = (path / "log.lammps").read_text(errors="replace")
    else:
        proc = subprocess.run(find_lammps(nprocs) + ["-in", "in.ev.lmp", "-log", "log.lammps"],
                              check=False, cwd=path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        returncode, output = proc.returncode, proc.stdout
    status = {"state": "completed", "protocol": protocol.name, "runner": runner}
    if returncode != 0:
        err = error_lines(output)
        status = {"state": "failed", "reason": err[0] if err else f"lmp exit {returncode}"}
        strict_json.write(path / STATUS, status, indent=2)
        raise IonmdError(f"E-V scan failed in {path}: {status['reason']}")
    rows = [ln.split() for ln in (path / "ev.txt").read_text().splitlines() if ln.strip()]
    result = analyse_ev([float(r[1]) for r in rows], [float(r[2]) for r in rows])
    result.strain, result.strains = strain, [float(x) for x in strain_values(protocol)]
    # measured energies a diverging model gave as nan, a Spearman rho of a flat curve: null
    strict_json.write(path / "ev.json", strict_json.nonfinite_to_null(result.to_dict()), indent=2)
    strict_json.write(path / STATUS, {**status, "strain": strain, "ev_failed": result.failed,
                                      "reasons": result.reasons, "flags": result.flags},
                      indent=2)
    return result
