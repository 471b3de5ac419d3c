"""Screen output: one row per structure (CSV and JSON), resume, CUBE files of the PES
and level map, and the top-N campaign file for MD validation."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from ionmd import strict_json

RESULTS_JSON = "screen.json"
RESULTS_CSV = "screen.csv"
SETTINGS_JSON = "screen_settings.json"
CAMPAIGN = "campaign.yaml"
# A row's column naming the file of the structure it screened, where its input is no file
# the MD can run as it is (an ordering of a disordered file, one structure of a file of
# several, a shipped example): the campaign runs that file.
STRUCTURE_FILE = "structure_file"
# The seed's MD validation of its top candidates: 1000 K and 500 K, 100 ps, 1 fs, D from
# 15 ps windows fitted over 1-15 ps (sec. II C), as an `ionmd sweep` campaign.
VALIDATION_TEMPERATURES_K = [1000, 500]
VALIDATION_PROTOCOL = {"name": "conductivity", "duration_ps": 100, "timestep_fs": 1.0}
VALIDATION_ANALYSIS = {"window_ps": 15.0, "fit_start_ps": 1.0, "fit_end_ps": 15.0}


def _fv_key(kind: str, t: float) -> str:
    return f"fv_{kind}_{t:g}eV"


def result_row(name: str, source: str, result, model_path: str, model_sha256: str) -> dict:
    """Flat, JSON-safe record of one structure (``inf`` MPE -> ``None``)."""
    d = result.descriptors
    row = {
        "name": name,
        "source": source,
        "status": "ok",
        "formula": result.atoms.get_chemical_formula(),
        "cell": result.settings.cell,
        "natoms": len(result.atoms),
        "lattice": [round(float(x), 6) for x in result.atoms.cell.cellpar()],
        "grid": "x".join(str(n) for n in result.grid),
        "species": result.settings.species,
        "mobile_ions": result.mobile_indices,
        "n_evaluated": result.n_evaluated,
        "mpe_eV": d.mpe if math.isfinite(d.mpe) else None,
        "xi": d.xi,
    }
    for t in d.thresholds:
        row[_fv_key("connected", t)] = d.fv_connected[t]
    for t in d.thresholds:
        row[_fv_key("disconnected", t)] = d.fv_disconnected[t]
    row.update({"spacing_A": result.settings.spacing, "rmin_A": result.settings.rmin,
                "connectivity": result.settings.connectivity, "model": str(model_path),
                "model_sha256": model_sha256, "wall_s": round(result.wall_s, 3)})
    row.update(result.extra)
    return row


def error_row(name: str, source: str, message: str, stage: str | None = None,
              error_type: str | None = None) -> dict:
    """A failed structure's row: the message, and the stage that failed and the type of
    its error where known (an unexpected one is a bug or an unforeseen input to report)."""
    row = {"name": name, "source": source, "status": "error", "error": message}
    if stage:
        row["stage"] = stage
    if error_type:
        row["error_type"] = error_type
    return row


def write_structure(outdir: Path, name: str, structure) -> Path:
    """``structure`` (pymatgen, ordered) as ``outdir/name.cif``, oxidation states kept."""
    from pymatgen.io.cif import CifWriter

    path = file_in(Path(outdir), f"{name}.cif")
    path.parent.mkdir(parents=True, exist_ok=True)
    CifWriter(structure).write_file(path)
    return path


ORDER_KEYS = ("order", "order_seed", "order_tol", "order_min_distance", "order_model_rank")
"""The settings of ``--order``: they change only the rows of files that were ordered."""


def check_settings(outdir: Path, settings: dict, record: bool = True) -> None:
    """Record the settings that change the descriptors in ``outdir``, or, when it already
    holds finished rows, refuse different ones: a resumed screen would otherwise keep rows
    computed with, e.g., another spacing or model beside new ones, and rank them together.
    Failed rows are retried anyway, so a folder holding only those takes new settings.
    ``record=False`` (a dry run) refuses as a screen would but writes nothing. The
    ordering settings (:data:`ORDER_KEYS`) count only where a finished row was ordered: the
    advice a disordered file's row gives ("--order random") is taken in the same folder,
    its ordered files' rows untouched by it."""
    from ionmd.errors import IonmdError

    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise IonmdError(f"-o {outdir} is a file, not a folder: give a folder for the results")
    path = outdir / SETTINGS_JSON
    settings = json.loads(json.dumps(settings))        # tuples -> lists, as read back
    finished = [r for r in load_rows(outdir) if r.get("status") == "ok"]
    if finished and path.is_file():
        old = read_json(path)
        ordered = any(r.get("ordering") for r in finished)
        diff = [f"{k} {old.get(k)!r} there, {v!r} now" for k, v in settings.items()
                if old.get(k) != v and (ordered or k not in ORDER_KEYS)]
        if diff:
            raise IonmdError(
                f"{outdir} holds a screen made with other settings ({'; '.join(diff)}): "
                "resuming would rank rows of both together. Write to another folder (-o), "
                "or rerun with the settings of that screen")
        if old == settings or not record:
            return
    if record:
        outdir.mkdir(parents=True, exist_ok=True)
        strict_json.write(path, settings, indent=1)


def load_rows(outdir: Path) -> list[dict]:
    """Rows already written in ``outdir`` (empty if none)."""
    path = Path(outdir) / RESULTS_JSON
    if not path.is_file():
        return []
    return read_json(path)


def read_json(path: Path):
    """A JSON file of the output folder; a corrupt one (an interrupted copy, an edit) is
    a one-line error that says what to do, not a traceback."""
    from ionmd.errors import IonmdError

    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IonmdError(f"{path} is not valid JSON ({exc}): repair or remove it, or write "
                         "to another folder (-o)") from None


def write_rows(outdir: Path, rows: list[dict]) -> None:
    """Write all rows as JSON (the resume record) and CSV (union of columns)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = outdir / (RESULTS_JSON + ".tmp")
    tmp.write_text(strict_json.dumps(rows, indent=1, what=str(outdir / RESULTS_JSON)))
    tmp.replace(outdir / RESULTS_JSON)          # atomic: an interrupt never leaves half a file
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with open(outdir / RESULTS_CSV, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (json.dumps(v) if isinstance(v, list) else v)
                             for k, v in row.items()})


def file_in(outdir: Path, filename: str) -> Path:
    """``outdir / filename``, refused where ``filename`` would leave ``outdir`` (a
    structure name with a '/' or '..')."""
    from ionmd.errors import IonmdError

    if "/" in filename or os.sep in filename or filename.startswith(".."):
        raise IonmdError(f"output file name {filename!r} holds a path separator: rename the "
                         "structure file (its name names the output files)")
    return Path(outdir) / filename


def write_cubes(outdir: Path, name: str, result) -> list[Path]:
    """PES (unit cell) and LM (2x2x2 supercell) as Gaussian CUBE files, eV.

    With several mobile ions each file holds the minimum over the ions. Excluded points
    (no energy) are written as the largest computed value, since viewers need numbers.
    """
    from ase.io.cube import write_cube

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    pes = np.min([land.pes for land in result.landscapes], axis=0)
    lm = np.min([land.lm_on_torus() for land in result.landscapes], axis=0)
    species = result.settings.species
    what = {"pes": f"PES of one mobile {species}, unit cell",
            "lm": f"level map of one mobile {species}, 2x2x2 supercell"}
    written = []
    for tag, data, atoms in (("pes", pes, result.atoms), ("lm", lm, result.atoms * (2, 2, 2))):
        finite = data[np.isfinite(data)]
        cap = float(finite.max()) if finite.size else 0.0
        path = file_in(outdir, f"{name}_{tag}.cube")
        # the format has no unit for the values: the first (comment) line says what they are
        comment = (f"ionmd screen {name}: {what[tag]}, eV above the minimum "
                   f"(min over ions); excluded/unreached points = {cap:.6g} eV")
        with open(path, "w") as fh:
            write_cube(fh, atoms, data=np.where(np.isfinite(data), data, cap), comment=comment)
        written.append(path)
    return written


RANK_KEYS = ("xi", "mpe")


def ranked(rows: list[dict], by: str = "xi") -> list[dict]:
    """Finished rows best first: by Xi (the seed's ranking; ties by lower MPE) or by lower
    MPE (ties by higher Xi). A structure with no percolating path (MPE ``None``) comes last
    by MPE."""
    if by not in RANK_KEYS:
        raise ValueError(f"rank by one of {RANK_KEYS}, not {by!r}")
    ok = [r for r in rows if r.get("status") == "ok"]

    def mpe(r):
        return r["mpe_eV"] if r["mpe_eV"] is not None else math.inf

    return sorted(ok, key=(lambda r: (-r["xi"], mpe(r))) if by == "xi"
                  else (lambda r: (mpe(r), -r["xi"])))


def structure_path(row: dict, outdir: Path) -> Path:
    """The file a campaign runs for ``row``: the cell the screen wrote (under
    ``outdir/structures``, found there also where the folder has moved since) or its input."""
    from ionmd.screen.batch_inputs import row_key

    written = row.get(STRUCTURE_FILE)
    if written:
        moved = outdir / "structures" / Path(written).name
        return Path(written) if Path(written).exists() or not moved.exists() else moved.resolve()
    return Path(row_key(row)).resolve()


def write_campaign(path: Path, rows: list[dict], top: int, model: str,
                   rank_by: str = "xi", warn=None) -> Path:
    """The ``top`` structures (:func:`ranked` by ``rank_by``) as an ``ionmd sweep`` campaign
    (YAML) running the seed's MD validation; the screen's numbers are comments beside each.
    A second name of one crystal is left out, and a row whose rank means little (a narrow
    cell) or whose input needs a look is marked above its entry
    (:func:`ionmd.screen.campaign_choice.choose_top`); the header names them all, and
    ``warn`` gets one line each."""
    from ionmd.screen.campaign_choice import choose_top

    path = Path(path)
    warn = warn or (lambda line: None)
    choice = choose_top(ranked(rows, rank_by), top, path.parent)
    for row, why in choice.left_out:
        warn(f"--top: {row['name']} left out: {why}")
    for name, marks in choice.marks.items():
        for mark in marks:
            warn(f"--top: {name}: {mark}")
    path.write_text("\n".join([*_campaign_header(choice, top, rank_by),
                               *_campaign_yaml(choice, model, path.parent)]))
    return path


def _campaign_yaml(choice, model: str, outdir: Path) -> list[str]:
    """The campaign's YAML, with each chosen row's marks as comments above its entry,
    where the user reads the list of structures to run."""
    import yaml

    head = {"name": "pes-screen-validation", "output": "validation-runs"}
    rest = {
        "models": [str(Path(model).resolve())],
        "temperatures": VALIDATION_TEMPERATURES_K,
        "replicas": 1,
        "protocol": dict(VALIDATION_PROTOCOL),
        "analysis": dict(VALIDATION_ANALYSIS),
        "resources": {"ranks": 1, "threads": 1, "walltime": "24:00:00"},
        "executor": {"kind": "local"},
    }
    lines = [yaml.safe_dump(head, sort_keys=False).rstrip("\n"), "structures:"]
    for r in choice.chosen:
        for mark in choice.marks.get(r["name"], []):
            lines += _comment(f"{r['name']}: {mark}", "# ")
        # the file's key, not its source: a row written by a run from another folder
        entry = [{"path": str(structure_path(r, outdir)), "name": r["name"]}]
        lines.append(yaml.safe_dump(entry, sort_keys=False).rstrip("\n"))
    return [*lines, yaml.safe_dump(rest, sort_keys=False)]


def _campaign_header(choice, top: int, rank_by: str) -> list[str]:
    """The campaign's comment lines: how to run it, the screen's numbers of each chosen
    row (with its marks), the rows left out and why, and a coarse grid's caveat."""
    from ionmd.screen.screen import coarse_grid_note

    header = ["# MD validation of the top structures of `ionmd screen` (PES-descriptor seed,",
              "# 1000 K and 500 K, 100 ps, 1 fs, 15 ps windows). Run it with",
              "#   ionmd sweep plan|submit|collect THIS_FILE   (docs/sweeps.md; submit runs",
              "#   here; for a cluster set executor's kind: slurm and the resources). Screen",
              f"#   results (--top {top}), best first by {rank_by}:"]
    for r in choice.chosen:
        marks = choice.marks.get(r["name"], [])
        header.append(f"#   {r['name']}: {_numbers(r)}"
                      + "".join(f"  [{m.split(':')[0]}]" for m in marks))
    if choice.left_out:
        header.append("# Left out, though their numbers ranked them among these:")
        for r, why in choice.left_out:
            header += _comment(f"{r['name']}: {_numbers(r)}: {why}", "#   ")
    tags = sorted({m.split(":")[0] for marks in choice.marks.values() for m in marks})
    if tags:
        header.append(f"# {', '.join(f'[{t}]' for t in tags)}: the lines above the "
                      "structure's entry below say why")
    coarse = coarse_grid_note(max((r.get("spacing_A") or 0.0 for r in choice.chosen),
                                      default=0.0))
    if coarse:
        header += _comment(f"CAUTION: {coarse}", "# ")
    return header


def _numbers(row: dict) -> str:
    mpe = "none" if row["mpe_eV"] is None else format(row["mpe_eV"], ".3f")
    return f"Xi = {row['xi']:.3f}, MPE = {mpe} eV"


def _comment(text: str, indent: str) -> list[str]:
    """``text`` as comment lines of at most 92 characters."""
    import textwrap

    return textwrap.wrap(text, 92, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_on_hyphens=False)


def write_lm_png(outdir: Path, name: str, result, level: float = 0.5) -> Path:
    """Three slices of the level map (2x2x2 supercell, min over ions) through the first
    ion's minimum, one per lattice plane, with the ``level`` eV contour.

    The periodic supercell is shifted so that this minimum is in the middle of each slice
    (a site at the cell origin, as Li in rock salt, was drawn split over the four corners).
    Each slice is drawn in Cartesian coordinates in its plane, A from the minimum, equal
    aspect (``slice_mesh``): a hexagonal or monoclinic cell keeps its angle, where square
    axes of grid steps drew a 120 degree ab plane as a square and bent its channels.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lm = np.min([land.lm_on_torus() for land in result.landscapes], axis=0)
    middle = [n // 2 for n in lm.shape]
    lm = np.roll(lm, [m - int(i) for m, i in zip(middle, result.landscapes[0].imin)],
                 axis=(0, 1, 2))
    top = max(2.0 * level, 1.0)
    shown = np.where(np.isfinite(lm), np.minimum(lm, top), top)
    cell = np.asarray(result.atoms.cell.array, dtype=float)
    unit_grid = np.asarray(result.landscapes[0].pes.shape)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.5), constrained_layout=True)
    labels = ("a", "b", "c")
    for axis, ax in enumerate(axes):
        cut = np.take(shown, middle[axis], axis=axis)
        others = [i for i in range(3) if i != axis]
        steps = cell[others] / unit_grid[others, None]        # one grid step, A
        corners, centres = slice_mesh(steps, cut.shape, [middle[i] for i in others])
        im = ax.pcolormesh(*corners, cut, cmap="viridis", vmin=0, vmax=top, shading="flat")
        if (cut < level).any() and (cut > level).any():
            ax.contour(*centres, cut, levels=[level], colors="red", linewidths=1.2)
        u, v = (labels[i] for i in others)
        ax.set_aspect("equal")
        ax.set_xlabel(f"A along {u}")
        ax.set_ylabel(f"A in the {u}{v} plane, normal to {u}")
        angle = math.degrees(math.acos(np.dot(*steps) / np.prod(np.linalg.norm(steps, axis=1))))
        ax.set_title(f"{u}{v} plane through the minimum, {u}-{v} angle {angle:.1f} deg",
                     fontsize=9)
    fig.colorbar(im, ax=axes, label=f"level map (eV, clipped at {top:g})")
    mpe = result.descriptors.mpe
    fig.suptitle(f"{name}: level map (2x2x2 cells), red = {level:g} eV, MPE = "
                 f"{f'{mpe:.3f} eV' if math.isfinite(mpe) else 'none (no percolating path)'}")
    path = file_in(Path(outdir), f"{name}_lm.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def slice_mesh(steps: np.ndarray, shape: tuple[int, int], origin) -> tuple[tuple, tuple]:
    """Plane coordinates (A) of a level-map slice: ``steps`` are the two grid step vectors
    (Cartesian rows), ``shape`` the slice's points, ``origin`` the index drawn at (0, 0).
    x runs along the first step, y normal to it in the plane. Returns the cell corners
    ``(X, Y)``, ``shape + 1`` each (pcolormesh, flat shading: point (i, j) fills the
    parallelogram around it), and the point centres ``(X, Y)`` (contour)."""
    u, v = np.asarray(steps, dtype=float)
    e1 = u / np.linalg.norm(u)
    normal = v - np.dot(v, e1) * e1
    e2 = normal / np.linalg.norm(normal)
    basis = np.array([[np.dot(u, e1), np.dot(u, e2)], [np.dot(v, e1), np.dot(v, e2)]])

    def plane(i, j):
        ii, jj = np.meshgrid(i - origin[0], j - origin[1], indexing="ij")
        return ii * basis[0, 0] + jj * basis[1, 0], ii * basis[0, 1] + jj * basis[1, 1]

    i, j = np.arange(shape[0]), np.arange(shape[1])
    return plane(np.append(i, shape[0]) - 0.5, np.append(j, shape[1]) - 0.5), plane(i, j)
