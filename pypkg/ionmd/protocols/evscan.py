"""E-V scan (MLIP Arena / AQVolt26 Table 1): single points of a structure under uniform
volumetric strain, a third-order Birch-Murnaghan fit and the checks that flag an
unphysical energy surface (more than one minimum, non-monotonic branches, measured by
the Spearman coefficients of E against V on either side of the minimum: -1 left, +1 right)."""

from __future__ import annotations

import string
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import spearmanr

from ionmd import strict_json
from ionmd.analysis.run_files import SETTINGS, STATUS
from ionmd.errors import IonmdError
from ionmd.lammps.data_file import write_data
from ionmd.lammps.log import error_lines
from ionmd.lammps.module_runner import ModuleRun, check_module_runner
from ionmd.lammps.process import find_lammps
from ionmd.protocols.checks import check_protocol
from ionmd.protocols.prepare import element_order, run_cell
from ionmd.protocols.presets import Protocol

EV_PER_A3_TO_GPA = 160.21766208


@dataclass
class EVResult:
    """Result of an E-V scan (energies in eV per cell, volumes in A^3)."""

    volumes: list[float]
    energies: list[float]
    n_minima: int
    spearman_left: float | None
    spearman_right: float | None
    failed: bool
    reasons: list[str]
    v0: float | None
    e0: float | None
    bulk_modulus_GPa: float | None
    bulk_modulus_deriv: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def birch_murnaghan(v: np.ndarray, e0: float, v0: float, b0: float, bp: float) -> np.ndarray:
    """Third-order Birch-Murnaghan E(V) (B0 in eV/A^3)."""
    eta = (v0 / v) ** (2.0 / 3.0) - 1.0
    return e0 + 9.0 * v0 * b0 / 16.0 * (eta ** 3 * bp + eta ** 2 * (6.0 - 4.0 * (eta + 1.0)))


def fit_birch_murnaghan(volumes: np.ndarray, energies: np.ndarray) -> tuple[float, float, float, float]:
    """Least-squares BM3 fit started from a parabola; returns (E0, V0, B0 [eV/A^3], B0')."""
    c2, c1, c0 = np.polyfit(volumes, energies, 2)
    if c2 <= 0:
        raise IonmdError("E(V) is not convex: no bulk modulus can be fitted")
    v0 = -c1 / (2 * c2)
    x0 = [c0 - c1 ** 2 / (4 * c2), v0, 2 * c2 * v0, 4.0]
    res = least_squares(lambda x: birch_murnaghan(volumes, *x) - energies, x0,
                        x_scale="jac", xtol=1e-14, ftol=1e-14, gtol=1e-14)
    return tuple(float(x) for x in res.x)


def analyse_ev(volumes, energies) -> EVResult:
    """Minima count, branch monotonicity (Spearman) and the BM3 bulk modulus."""
    order = np.argsort(volumes)
    v, e = np.asarray(volumes, float)[order], np.asarray(energies, float)[order]
    reasons = []
    if not np.all(np.isfinite(e)):
        reasons.append("non-finite energies")
        return EVResult(v.tolist(), e.tolist(), 0, None, None, True, reasons, None, None, None, None)
    inner = np.flatnonzero((e[1:-1] < e[:-2]) & (e[1:-1] < e[2:])) + 1
    n_min = len(inner)
    if n_min != 1:
        reasons.append(f"{n_min} local minima inside the scanned range (expected one)")
    i_min = int(np.argmin(e))
    rho_l = float(spearmanr(v[: i_min + 1], e[: i_min + 1])[0]) if i_min >= 2 else None
    rho_r = float(spearmanr(v[i_min:], e[i_min:])[0]) if len(v) - i_min >= 3 else None
    if rho_l is not None and rho_l > -1 + 1e-12:
        reasons.append(f"compressed branch not monotonic (Spearman {rho_l:.3f})")
    if rho_r is not None and rho_r < 1 - 1e-12:
        reasons.append(f"expanded branch not monotonic (Spearman {rho_r:.3f})")
    fit = (None,) * 4
    try:
        fit = fit_birch_murnaghan(v, e)
    except IonmdError as exc:
        reasons.append(str(exc))
    e0, v0, b0, bp = fit
    return EVResult(v.tolist(), e.tolist(), n_min, rho_l, rho_r, bool(reasons), reasons, v0, e0,
                    None if b0 is None else b0 * EV_PER_A3_TO_GPA, bp)


def write_ev_scan(protocol: Protocol, structure, model: str | Path, out: str | Path,
                  name: str = "structure", in_run_cell: bool = False) -> Path:
    """Write one data file per strain and the LAMMPS input of the scan to
    ``OUT/<name>/<model>/<protocol>``; returns that folder. Nothing is run.

    The folder's ``settings.json`` records what the scan is (protocol, model, structure):
    the same command again redoes it there; other settings (more points, another model of
    the same file name) are refused rather than written over its ``ev.json``.
    """
    from ionmd.protocols.md_input import INPUTS
    from ionmd.protocols.run_settings import (model_hashes, reopen_with_settings,
                                              replace_json, structure_hash)

    check_protocol(protocol)
    model = Path(model)
    atoms = run_cell(protocol, structure, in_run_cell)
    elements = element_order(atoms, model, name)
    path = Path(out) / name / model.stem / protocol.name
    settings = {"protocol": protocol.to_dict(), "model": str(model.resolve()),
                **model_hashes(model), "structure": name,
                "structure_hash": structure_hash(atoms), "elements": elements}
    if not reopen_with_settings(path, settings, "E-V scan folder"):
        path.mkdir(parents=True, exist_ok=True)
        replace_json(path / SETTINGS, settings)
    (path / "ev.txt").unlink(missing_ok=True)
    files = []
    for i, s in enumerate(np.linspace(-protocol.max_strain, protocol.max_strain, protocol.n_points)):
        strained = atoms.copy()
        strained.set_cell(atoms.cell * (1.0 + s) ** (1.0 / 3.0), scale_atoms=True)
        files.append(f"ev.{i:03d}.data")
        write_data(strained, path / files[-1], elements)
    template = Path(protocol.template) if protocol.template else INPUTS / "ev.lmp"
    (path / "in.ev.lmp").write_text(string.Template(template.read_text()).substitute(
        data_files=" ".join(files), model=str(model.resolve()), elements=" ".join(elements)))
    return path


def run_ev_scan(protocol: Protocol, structure, model: str | Path, out: str | Path,
                name: str = "structure", nprocs: int = 1, runner: str = "subprocess",
                dry_run: bool = False, in_run_cell: bool = False) -> EVResult | None:
    """Write the scan (:func:`write_ev_scan`), run it through one LAMMPS call (``lmp``, or
    the ``lammps`` module in this process with ``runner="module"``), analyse, and write
    ``ev.json`` plus ``status.json``. ``dry_run``: write the inputs only, return None."""
    from ionmd.protocols.execute import RUNNERS

    if runner not in RUNNERS:
        raise IonmdError(f"unknown runner {runner!r}; choose one of {', '.join(RUNNERS)}")
    if runner == "module" and nprocs > 1:
        raise IonmdError(f"the module runner runs LAMMPS in this Python process on one rank; "
                         f"for --np {nprocs} use --runner subprocess (mpirun -np N lmp)")
    path = write_ev_scan(protocol, structure, model, out, name, in_run_cell)
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
    # measured energies a diverging model gave as nan, a Spearman rho of a flat curve: null
    strict_json.write(path / "ev.json", strict_json.nonfinite_to_null(result.to_dict()), indent=2)
    strict_json.write(path / STATUS, {**status, "ev_failed": result.failed,
                                      "reasons": result.reasons}, indent=2)
    return result
