"""Run ``lmp -in`` (optionally under ``mpirun``) on an ASE structure and read back
energies, forces, per-atom quantities and the pressure tensor at full precision.

Kept apart from the tests so that every test drives LAMMPS the way users do: a data
file, an input script and the ``lmp`` executable of the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.geometry import Cell
from ase.io import write

BIN = Path(sys.executable).parent
# LAMMPS's own metal-units factor (force->nktv2p), not CODATA's 1.602176634e6: the
# 8e-8 relative difference would otherwise show in every float64 stress comparison
EV_PER_A3_TO_BAR = 1.6021765e6


def to_lammps_frame(atoms: Atoms) -> Atoms:
    """Rotate ``atoms`` so the cell is lower triangular (a along x, b in the xy plane),
    the frame LAMMPS uses; then forces and stresses need no rotation to compare."""
    out = atoms.copy()
    out.set_cell(Cell.fromcellpar(atoms.cell.cellpar()), scale_atoms=True)
    return out


def write_data(atoms: Atoms, path: Path, elements: list[str]) -> None:
    write(path, atoms, format="lammps-data", specorder=elements, masses=True,
          atom_style="atomic")


@dataclass
class LammpsResult:
    energy: float
    forces: np.ndarray          # [N, 3], ordered by atom id (= ASE order)
    atom_energy: np.ndarray     # [N]
    atom_virial: np.ndarray     # [N, 6] in eV (LAMMPS order xx yy zz xy xz yz)
    pressure: np.ndarray        # [6] in bar (xx yy zz xy xz yz)
    volume: float
    log: str

    def stress_ase(self) -> np.ndarray:
        """ASE Voigt stress (xx yy zz yz xz xy) in eV/A^3 from the static pressure."""
        p = self.pressure / EV_PER_A3_TO_BAR
        return -np.array([p[0], p[1], p[2], p[5], p[4], p[3]])


def lammps_rdf(atoms: Atoms, workdir: Path, r_max: float, n_bins: int) -> np.ndarray:
    """LAMMPS's ``compute rdf`` of one LiCl configuration (types 1 = Li, 2 = Cl; columns:
    bin, r, g and coordination of Li-Li, Cl-Cl, Li-Cl), ``atoms`` in LAMMPS's frame
    (:func:`to_lammps_frame`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    write_data(atoms, workdir / "s.data", ["Li", "Cl"])
    run_lmp(f"""units metal
atom_style atomic
read_data s.data
pair_style zero {r_max}
pair_coeff * *
compute r all rdf {n_bins} 1 1 2 2 1 2
fix f all ave/time 1 1 1 c_r[*] file rdf.out mode vector
run 0
""", workdir)
    return np.loadtxt(workdir / "rdf.out", skiprows=4)


def thermo_table(log: str, columns: int) -> np.ndarray:
    """Numeric thermo rows (lines of ``columns`` numbers starting with a step) of a log."""
    rows = []
    for line in log.splitlines():
        parts = line.split()
        if len(parts) == columns and parts[0].isdigit():
            try:
                rows.append([float(p) for p in parts])
            except ValueError:
                pass
    return np.array(rows)


def lammps_cmd(nprocs: int = 1) -> list[str]:
    lmp = str(BIN / "lmp")
    if nprocs == 1:
        return [lmp]
    return [str(BIN / "mpirun"), "-np", str(nprocs), lmp]


def run_lmp(script: str, workdir: Path, nprocs: int = 1, env: dict | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    """Run an input script; returns the completed process (stdout+stderr in .stdout)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "in.lmp").write_text(script)
    run_env = dict(os.environ)
    # one thread unless a test asks for more: on a busy machine (the suite's lmp runs
    # beside pytest and other jobs) 2 OpenMP threads of a 2-core host wait on each other
    # at every barrier (measured: 8-atom SevenNet-0 MD, 100 steps, 4.8 s CPU with 1
    # thread, > 97 s CPU unfinished with 2), and tiny test models gain nothing from them
    run_env.setdefault("OMP_NUM_THREADS", "1")
    if env:
        run_env.update(env)
    proc = subprocess.run(lammps_cmd(nprocs) + ["-in", "in.lmp", "-log", "log.lammps"],
                          cwd=workdir, env=run_env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=1800)
    if check and proc.returncode != 0:
        raise RuntimeError(f"lmp failed (rc={proc.returncode}) in {workdir}:\n{proc.stdout[-4000:]}")
    return proc


def single_point(atoms: Atoms, model_file: Path | None, workdir: Path, elements: list[str], *,
                 nprocs: int = 1, pair_extra: str = "", processors: str | None = None,
                 pair_lines: str | None = None, setup_lines: str = "",
                 env: dict | None = None) -> LammpsResult:
    """``run 0`` on ``atoms`` (already in the LAMMPS frame) with ``pair_style ionmd``, or
    with ``pair_lines`` (any LAMMPS pair commands) when given; ``setup_lines`` go right
    after ``read_data`` (e.g. ``comm_style tiled`` and ``balance``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    if pair_lines is None:
        pair_lines = f"pair_style ionmd {model_file} {pair_extra}\npair_coeff * * {' '.join(elements)}"
    write_data(atoms, workdir / "struct.data", elements)
    script = f"""
units metal
atom_style atomic
boundary p p p
atom_modify map yes
{f'processors {processors}' if processors else ''}
read_data struct.data
{setup_lines}
{pair_lines}
compute pea all pe/atom
compute sa all stress/atom NULL virial
dump d all custom 1 out.dump id fx fy fz c_pea c_sa[1] c_sa[2] c_sa[3] c_sa[4] c_sa[5] c_sa[6]
dump_modify d sort id format float %.17g
thermo_style custom step pe pxx pyy pzz pxy pxz pyz vol
run 0
print "RESULT $(pe:%.17g) $(pxx:%.17g) $(pyy:%.17g) $(pzz:%.17g) $(pxy:%.17g) $(pxz:%.17g) $(pyz:%.17g) $(vol:%.17g)" file result.txt
"""
    proc = run_lmp(script, workdir, nprocs=nprocs, env=env)
    vals = (workdir / "result.txt").read_text().split()[1:]
    nums = np.array([float(v) for v in vals])
    dump = np.loadtxt(workdir / "out.dump", skiprows=9, ndmin=2)
    volume = nums[7]
    # stress/atom gives -virial in pressure*volume units (bar A^3): convert to eV
    atom_virial = -dump[:, 5:11] / EV_PER_A3_TO_BAR
    return LammpsResult(energy=nums[0], forces=dump[:, 1:4], atom_energy=dump[:, 4],
                        atom_virial=atom_virial, pressure=nums[1:7], volume=volume,
                        log=proc.stdout)


def assert_same_physics(run: LammpsResult, ref: LammpsResult, rtol: float) -> None:
    """Energy, forces, pressure, per-atom energies and virials of ``run`` equal ``ref``'s
    to ``rtol`` relative (of each quantity's largest magnitude)."""
    assert abs(run.energy - ref.energy) <= rtol * abs(ref.energy)
    fmax = np.abs(ref.forces).max()
    assert fmax > 0.01
    assert np.abs(run.forces - ref.forces).max() <= rtol * fmax
    assert np.abs(run.pressure - ref.pressure).max() <= rtol * np.abs(ref.pressure).max()
    assert np.abs(run.atom_energy - ref.atom_energy).max() <= rtol * np.abs(ref.atom_energy).max()
    vmax = np.abs(ref.atom_virial).max()
    assert np.abs(run.atom_virial - ref.atom_virial).max() <= rtol * vmax


LJ_DCD_RUN_JSON = {"temperature_K": 1500, "timestep_fs": 2.0, "trajectory": ["t.dcd"],
                   "type_map": {"1": "Li", "2": "Cl"}, "mobile_species": ["Li"],
                   "discard_ps": 0.1}
"""run.json of :func:`lj_dcd_run`'s folder: analysable as it is (no model named)."""


def lj_dcd_run(run: Path, *, thermo_every: int | None = None, extra: str = "") -> Path:
    """A real LAMMPS run in ``run``: 108 two-type LJ atoms at 1500 K (NVT), 400 steps of
    2 fs, a DCD frame every 20 steps (21 frames over 0.8 ps), ``s.data`` and its log;
    ``thermo_every`` and the input lines ``extra`` (a fix) go before the dump."""
    from lammps_cells import two_type_lj_cell

    thermo = f"thermo {thermo_every}\n" if thermo_every else ""
    extra = f"{extra}\n" if extra else ""
    run_lmp(two_type_lj_cell("fcc 4.4", region="block 0 3 0 3 0 3")
            + "velocity all create 1500 1\nwrite_data s.data\ntimestep 0.002\n"
            + "fix 1 all nvt temp 1500 1500 0.1\n" + thermo + extra
            + "dump d all dcd 20 t.dcd\nrun 400\n", run)
    return run
