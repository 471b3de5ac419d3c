"""Real LAMMPS runs of rock-salt NaCl (Tosi-Fumi Born-Mayer-Huggins, Wolf-summed Coulomb:
seconds each) laid out as ionmd run directories, and references computed apart from
ionmd: a ``dump custom`` parser of its own, unwrapping by LAMMPS's image flags, the
Lindemann ratio and the Cl sub-lattice's Bragg peak.

Cl is type 1, Na type 2; the data files are perfect lattices (frame 0 on its sites).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.io import write

from lammps_runner import run_lmp

A = 5.64                      # NaCl lattice constant, A
# Tosi-Fumi NaCl (pair_style born: A rho sigma C D, eV and A)
POTENTIAL = """pair_style born/coul/wolf 0.25 8.0
pair_coeff 1 1 0.1582 0.317 3.170 75.0375 150.7543
pair_coeff 1 2 0.2110 0.317 2.755 6.9906 8.6758
pair_coeff 2 2 0.2637 0.317 2.340 1.0486 0.4993
neighbor 1.0 bin
"""
HEAD = """units metal
atom_style charge
boundary p p p
atom_modify map yes
{start}
set type 1 charge -1
set type 2 charge 1
{potential}
thermo_style custom step time temp pe ke etotal press vol atoms
thermo_modify lost error norm no flush yes
timestep {dt}
"""


def nacl_dir(run_dir: Path, *, reps=(3, 3, 3), a: float = A, delete=(), temperature_K: float,
             timestep_fs: float = 1.0, dump_every: int, **run_json) -> Path:
    """A run directory holding the data file and ``run.json`` (Na mobile)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atoms = bulk("NaCl", "rocksalt", a=a, cubic=True) * reps
    del atoms[list(delete)]
    write(run_dir / "struct.data", atoms, format="lammps-data", specorder=["Cl", "Na"],
          masses=True, atom_style="charge")
    spec = {"schema": "ionmd-run/1", "temperature_K": temperature_K, "timestep_fs": timestep_fs,
            "dump_every": dump_every, "mobile_species": ["Na"], "charges": {"Na": 1, "Cl": -1},
            "type_map": {"1": "Cl", "2": "Na"}, "structure": run_dir.name, **run_json}
    (run_dir / "run.json").write_text(json.dumps(spec))
    return run_dir


def lmp(run_dir: Path, body: str, *, log: str = "log.lammps", restart: str | None = None,
        timestep_fs: float = 1.0, check: bool = True):
    """Run ``body`` after the common head (from the data file, or ``restart``)."""
    start = f"read_restart {restart}" if restart else "read_data struct.data"
    script = HEAD.format(start=start, potential=POTENTIAL, dt=timestep_fs / 1000) + body
    proc = run_lmp(script, run_dir, env={"OMP_NUM_THREADS": "1"}, check=check)
    if log != "log.lammps":   # a piece's own log, as ionmd's resumed runs keep them
        (run_dir / "log.lammps").rename(run_dir / log)
    return proc


def analyze(run_dir: Path, *extra: str) -> dict:
    """``ionmd analyze --failures-only`` as a user runs it; its ``failure.json``."""
    from ionmd.cli import main

    assert main(["analyze", str(run_dir), "--failures-only", *extra]) in (0, None)
    return json.loads((run_dir / "analysis" / "failure.json").read_text())


def read_custom(paths) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps, orthorhombic box lengths (T, 3), types (N,) and image-flag-unwrapped
    positions (T, N, 3) of ``dump custom ... id type x y z ix iy iz`` files (sorted by
    id) in run order; a step a later file repeats is kept once."""
    steps, lengths, pos, types = [], [], [], None
    for path in paths:
        lines = Path(path).read_text().splitlines()
        i = 0
        while i < len(lines) and lines[i].startswith("ITEM: TIMESTEP"):
            step, n = int(lines[i + 1]), int(lines[i + 3])
            bounds = np.array([[float(v) for v in lines[i + 5 + k].split()[:2]] for k in range(3)])
            rows = np.array([[float(v) for v in ln.split()] for ln in lines[i + 9:i + 9 + n]])
            i += 9 + n
            if steps and step <= steps[-1]:
                continue
            length = bounds[:, 1] - bounds[:, 0]
            steps.append(step)
            lengths.append(length)
            pos.append(rows[:, 2:5] + rows[:, 5:8] * length)
            types = rows[:, 1].astype(int)
    return np.array(steps), np.array(lengths), types, np.array(pos)


def lindemann_ratio(pos: np.ndarray, d_nn: float) -> np.ndarray:
    """RMS displacement from the starting sites (drift removed) / ``d_nn``, per frame."""
    disp = pos - pos[0]
    disp -= disp.mean(axis=1, keepdims=True)
    return np.sqrt((disp ** 2).sum(-1).mean(-1)) / d_nn


def bragg_peak(frac: np.ndarray, cells: int) -> np.ndarray:
    """|S(k)|^2 / N of fractional positions (T, N, 3) at the fcc (200) vectors of a
    ``cells``-fold supercell of the conventional cell: 1 on the lattice, ~1/N in a liquid."""
    out = np.zeros(len(frac))
    for axis in range(3):
        k = np.zeros(3)
        k[axis] = 2 * np.pi * 2 * cells
        out += np.abs(np.exp(1j * frac @ k).mean(axis=1)) ** 2 / 3
    return out
