"""pair_style ionmd in `lmp -in` scripts as users write them, not as ionmd writes them:
more atom types than elements, other atom styles, newton off, no skin, a larger ghost
cutoff, a strongly tilted cell smaller than the cutoff, replicate, delete_atoms between
runs, and the per-atom outputs (compute pe/atom, stress/atom) of each.

References: SevenNet's own calculator in float64 (energy, forces, stress and its per-atom
energies), MACE's (its per-atom ``energies``) and LAMMPS's own sums (compute reduce of the
per-atom energies and virials against the total energy and the pressure times volume).
Under MPI a model file that some ranks cannot load, or load with other content, must stop
every rank with a message, not hang the job."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import numpy as np
import pytest
import torch
from ase.build import bulk, make_supercell
from ase.io import write

from contract_models import MorseEdgeModel, save_contract_model
from lammps_runner import (BIN, EV_PER_A3_TO_BAR, run_lmp, thermo_table, to_lammps_frame,
                           write_data)
from mace_reference import mace_calculator
from sevennet_reference import reference_calculator

ELEMENTS = ["Cl", "Li"]
# per atom: compute reduce sums of pe/atom and stress/atom next to the totals
THERMO = """compute pea all pe/atom
compute sa all stress/atom NULL virial
compute spe all reduce sum c_pea
compute ssa all reduce sum c_sa[1] c_sa[2] c_sa[3] c_sa[4] c_sa[5] c_sa[6]
thermo_style custom step pe c_spe pxx pyy pzz pxy pxz pyz c_ssa[1] c_ssa[2] c_ssa[3] c_ssa[4] c_ssa[5] c_ssa[6] vol
thermo_modify format float %.17g
dump d all custom 1 out.dump id fx fy fz c_pea
dump_modify d sort id format float %.17g
"""
NCOLS = 16


def rattled_licl(seed=2):
    """8-atom rock-salt LiCl: a 5.14 A cell, smaller than twice the tiny models' cutoffs
    (4 and 5 A), so each atom meets several images of itself and of every other atom."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.rattle(0.08, seed=seed)
    return to_lammps_frame(atoms)


def tilted_licl():
    """The 2-atom primitive cell, re-based on strongly tilted vectors (cell angles down to
    11 degrees, tilt factors far beyond half a box length): the same crystal."""
    prim = bulk("LiCl", "rocksalt", a=5.14)
    prim.rattle(0.05, seed=4)
    return to_lammps_frame(make_supercell(prim, [[1, 0, 0], [4, 1, 0], [-3, 5, 1]]))


class Reference:
    def __init__(self, atoms, calc):
        atoms = atoms.copy()
        atoms.calc = calc
        self.energy = atoms.get_potential_energy()
        self.forces = atoms.get_forces()
        self.stress = atoms.get_stress()
        self.energies = atoms.get_potential_energies()


def run_zero(tmp_path, atoms, body, *, nprocs=1, before="", style="atomic", after_read=""):
    """`run 0` of ``body`` (pair commands) on ``atoms``; returns the thermo row and dump."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write(tmp_path / "s.data", atoms, format="lammps-data", specorder=ELEMENTS, masses=True,
          atom_style=style)
    script = (f"units metal\n{before}atom_style {style}\nread_data s.data\n{after_read}"
              f"{body}\n{THERMO}run 0\n")
    proc = run_lmp(script, tmp_path, nprocs=nprocs)
    row = thermo_table(proc.stdout, NCOLS)[-1]
    dump = np.loadtxt(tmp_path / "out.dump", skiprows=9, ndmin=2)
    return row, dump


def assert_matches(row, dump, ref: Reference, n_atoms, scale=1):
    """Energy, forces, stress and per-atom energies of a `run 0` against the calculator's
    (``scale`` copies of its cell: replicate), and the per-atom sums against the totals."""
    pe, pe_sum, pressure, virial_sum, volume = row[1], row[2], row[3:9], row[9:15], row[15]
    assert len(dump) == n_atoms
    assert pe == pytest.approx(scale * ref.energy, abs=1e-10 * scale * len(ref.forces))
    assert np.abs(dump[:, 1:4] - np.tile(ref.forces, (scale, 1))).max() <= 1e-10
    p = pressure / EV_PER_A3_TO_BAR
    stress = -np.array([p[0], p[1], p[2], p[5], p[4], p[3]])
    assert np.abs(stress - ref.stress).max() <= 1e-10
    assert np.abs(dump[:, 4] - np.tile(ref.energies, scale)).max() <= 1e-10
    # LAMMPS's own consistency: sum of pe/atom = pe, sum of stress/atom = -P V
    assert pe_sum == pytest.approx(pe, abs=1e-9)
    np.testing.assert_allclose(-virial_sum / volume, pressure,
                               atol=1e-9 * np.abs(pressure).max())


@pytest.fixture(scope="module")
def licl():
    return rattled_licl()


@pytest.fixture(scope="module")
def sevennet_ref(tiny_checkpoint, licl):
    return Reference(licl, reference_calculator(str(tiny_checkpoint), "float64"))


PAIR = "pair_style ionmd {model}\npair_coeff * * Cl Li"

# name -> (pair and setup lines, keyword arguments of run_zero, MPI ranks)
SCRIPTS = {
    "plain": (PAIR, {}, 1),
    "newton_pair_off": (PAIR, {"before": "newton off on\n"}, 1),
    "no_skin_every_step": (PAIR + "\nneighbor 0.0 bin\nneigh_modify every 1 delay 0 check yes",
                           {}, 1),
    "large_ghost_cutoff": (PAIR + "\ncomm_modify cutoff 15.0", {}, 2),
    "atom_style_charge": (PAIR, {"style": "charge"}, 1),
    "atom_style_full": (PAIR, {"style": "full"}, 2),
    "graph_ghosts": ("pair_style ionmd {model} graph ghosts\npair_coeff * * Cl Li", {}, 1),
    "halo_two_ranks": (PAIR, {}, 2),
    "redundant_two_ranks": ("pair_style ionmd {model} ghost redundant\npair_coeff * * Cl Li",
                            {}, 2),
    "redundant_larger_ghost_cutoff": ("pair_style ionmd {model} ghost redundant\n"
                                      "pair_coeff * * Cl Li\ncomm_modify cutoff 14.0", {}, 2),
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_user_scripts_match_sevennet_calculator(name, tiny_f64, licl, sevennet_ref, tmp_path):
    body, kwargs, nprocs = SCRIPTS[name]
    row, dump = run_zero(tmp_path, licl, body.format(model=tiny_f64), nprocs=nprocs, **kwargs)
    assert_matches(row, dump, sevennet_ref, len(licl))


def test_two_atom_types_of_one_element(tiny_f64, licl, sevennet_ref, tmp_path):
    """Two Li sub-lattices as types 2 and 3 (read_data ... extra/atom/types 1), both Li in
    pair_coeff: the same physics."""
    assert licl[0].symbol == licl[4].symbol == "Li"
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl, tmp_path / "s.data", ELEMENTS)
    script = (f"units metal\natom_style atomic\nread_data s.data extra/atom/types 1\nmass 3 6.94\n"
              f"set atom 1 type 3\nset atom 5 type 3\npair_style ionmd {tiny_f64}\npair_coeff * * Cl Li Li\n{THERMO}"
              "run 0\n")
    proc = run_lmp(script, tmp_path)
    row = thermo_table(proc.stdout, NCOLS)[-1]
    assert_matches(row, np.loadtxt(tmp_path / "out.dump", skiprows=9), sevennet_ref, len(licl))


@pytest.mark.parametrize("nprocs", [1, 2])
def test_tilted_cell_smaller_than_the_cutoff(tiny_f64, tiny_checkpoint, nprocs, tmp_path):
    atoms = tilted_licl()
    ref = Reference(atoms, reference_calculator(str(tiny_checkpoint), "float64"))
    row, dump = run_zero(tmp_path, atoms, PAIR.format(model=tiny_f64), nprocs=nprocs)
    assert_matches(row, dump, ref, len(atoms))


@pytest.mark.parametrize("nprocs", [1, 2])
def test_replicate_gives_eight_times_the_cell(tiny_f64, licl, sevennet_ref, nprocs, tmp_path):
    row, dump = run_zero(tmp_path, licl, PAIR.format(model=tiny_f64), nprocs=nprocs,
                         after_read="replicate 2 2 2\n")
    assert_matches(row, dump, sevennet_ref, 8 * len(licl), scale=8)


@pytest.mark.mpi
@pytest.mark.parametrize("nprocs", [1, 2])
def test_delete_atoms_between_runs(tiny_f64, tiny_checkpoint, licl, sevennet_ref, nprocs,
                                   tmp_path):
    """The second run has one atom fewer (ID 3 gone: the IDs are no longer consecutive)."""
    fewer = licl.copy()
    del fewer[2]
    ref = Reference(fewer, reference_calculator(str(tiny_checkpoint), "float64"))
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl, tmp_path / "s.data", ELEMENTS)
    script = (f"units metal\natom_style atomic\nread_data s.data\n"
              f"{PAIR.format(model=tiny_f64)}\n{THERMO}run 0\ngroup one id 3\n"
              "delete_atoms group one compress no\nundump d\n"
              "dump d2 all custom 1 out2.dump id fx fy fz c_pea\n"
              "dump_modify d2 sort id format float %.17g\nrun 0\n")
    proc = run_lmp(script, tmp_path, nprocs=nprocs)
    rows = thermo_table(proc.stdout, NCOLS)
    assert rows[0][1] == pytest.approx(sevennet_ref.energy, abs=1e-10)
    last = np.loadtxt(tmp_path / "out2.dump", skiprows=9)
    assert list(last[:, 0]) == [1, 2, 4, 5, 6, 7, 8]
    assert_matches(rows[-1], last, ref, len(fewer))


@pytest.mark.mpi
@pytest.mark.parametrize("nprocs", [1, 2])
def test_mace_per_atom_energies_match_calculator(tiny_mace_f64, tiny_mace_file, licl, nprocs,
                                                 tmp_path):
    """MACE's calculator gives per-atom energies with the isolated-atom energies E0
    (``energies``; its ``node_energy`` leaves E0 out): pe/atom is the former."""
    ref = Reference(licl, mace_calculator(tiny_mace_file))
    row, dump = run_zero(tmp_path, licl, PAIR.format(model=tiny_mace_f64), nprocs=nprocs)
    assert_matches(row, dump, ref, len(licl))


def test_centroid_stress_is_refused(tiny_f64, licl, tmp_path):
    """The model gives edge forces of the total energy, not the per-atom energies' own
    gradients that a centroid (heat-flux) stress needs: refused, not made up."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl, tmp_path / "s.data", ELEMENTS)
    script = (f"units metal\natom_style atomic\nread_data s.data\n{PAIR.format(model=tiny_f64)}\n"
              "compute c all centroid/stress/atom NULL\ncompute s all reduce sum c_c[1]\n"
              "thermo_style custom step pe c_s\nrun 0\n")
    proc = run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0
    assert "does not support compute centroid/stress/atom" in proc.stdout


# ------------------------------------------------------------------ MPI: all ranks stop

@pytest.fixture(scope="module")
def morse_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("lmpin_models")
    a = save_contract_model(MorseEdgeModel(0.35, 1.4, 2.9, 5.0), d / "a.pt", cutoff=5.0,
                            elements=ELEMENTS)
    b = save_contract_model(MorseEdgeModel(0.30, 1.4, 2.9, 5.0), d / "b.pt", cutoff=5.0,
                            elements=ELEMENTS)
    return a, b


def run_per_rank_files(tmp_path, files, timeout=120):
    """One `lmp` per rank (MPMD), each with its own value of ${f}: the model file path as
    each node would see it. Returns (returncode, output); a hang is killed and fails."""
    write_data(rattled_licl(), tmp_path / "s.data", ELEMENTS)
    (tmp_path / "in.lmp").write_text("units metal\natom_style atomic\nread_data s.data\n"
                                     "pair_style ionmd ${f}\npair_coeff * * Cl Li\nrun 0\n")
    cmd = [str(BIN / "mpirun")]
    for k, f in enumerate(files):
        cmd += ([":"] if k else []) + ["-np", "1", str(BIN / "lmp"), "-in", "in.lmp",
                                        "-var", "f", str(f), "-log", f"log{k}.lammps"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"lmp hung: one rank stopped, the other went on ({cmd})")
    return proc.returncode, out


@pytest.mark.mpi
@pytest.mark.parametrize("missing_on", [0, 1])
def test_model_missing_on_one_rank_stops_every_rank(morse_files, missing_on, tmp_path):
    """A model on node-local storage of one node only: every rank stops, naming the rank,
    its host and the cause (the job hung silently until its wall time)."""
    files = [morse_files[0], morse_files[0]]
    files[missing_on] = tmp_path / "not_on_this_node.pt"
    rc, out = run_per_rank_files(tmp_path, files)
    assert rc != 0
    assert "1 MPI rank(s) of 2 could not load the model" in out
    assert f"rank {missing_on} on host" in out and "does not exist" in out
    assert "storage every node reads" in out


@pytest.mark.mpi
def test_model_missing_on_every_rank_keeps_the_plain_message(tmp_path):
    rc, out = run_per_rank_files(tmp_path, [tmp_path / "gone.pt", tmp_path / "gone.pt"])
    assert rc != 0
    assert "gone.pt does not exist or cannot be read" in out
    assert "could not load the model" not in out


@pytest.mark.mpi
def test_other_model_content_on_one_rank_is_refused(morse_files, tmp_path):
    """A stale copy on one node: the ranks there would run another potential, silently."""
    local = tmp_path / "node_local"
    local.mkdir()
    shutil.copy(morse_files[1], local / "a.pt")
    rc, out = run_per_rank_files(tmp_path, [morse_files[0], local / "a.pt"])
    assert rc != 0
    assert "is not the same file on every MPI rank" in out
    assert "1 of 2 ranks (the first: rank 1 on host" in out


@pytest.mark.mpi
def test_same_model_on_every_rank_runs(morse_files, tmp_path):
    """Two copies of the same file (node-local storage done right) run."""
    local = tmp_path / "node_local"
    local.mkdir()
    shutil.copy(morse_files[0], local / "a.pt")
    rc, out = run_per_rank_files(tmp_path, [morse_files[0], local / "a.pt"])
    assert rc == 0, out[-2000:]


@pytest.mark.parametrize("units", ["real", "lj"])
def test_other_units_are_refused_saying_how_to_convert(tiny_f64, licl, units, tmp_path):
    """An energy in kcal/mol or reduced units is not an eV: refused, with what metal units
    change in a user's script (timestep, velocities)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl, tmp_path / "s.data", ELEMENTS)
    script = f"units {units}\natom_style atomic\nread_data s.data\n{PAIR.format(model=tiny_f64)}\nrun 0\n"
    proc = run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0
    assert f"requires 'units metal' (models use eV and Angstrom), but units are '{units}'" in proc.stdout
    if units == "real":     # its timestep and velocities convert by fixed factors
        assert "timestep 0.001 is 1 fs" in proc.stdout and "Velocities x 1000" in proc.stdout
    else:                   # reduced units have no fixed conversion: say so, not real's factors
        assert "'lj' units are reduced" in proc.stdout and "Velocities x 1000" not in proc.stdout


@pytest.mark.parametrize("nprocs", [1, 2])
def test_hybrid_with_a_classical_pair_for_other_atoms(tiny_f64, tiny_checkpoint, nprocs,
                                                      tmp_path):
    """`pair_style hybrid ionmd ... lj/cut` with Ar atoms (NULL for the model) among LiCl:
    the model's part is SevenNet's calculator on the LiCl atoms alone, the rest is LAMMPS's
    lj/cut alone on the same data file (Li/Cl pairs at epsilon 0)."""
    from ase import Atoms

    licl = to_lammps_frame(bulk("LiCl", "rocksalt", a=5.14, cubic=True).repeat((2, 1, 1)))
    licl.rattle(0.05, seed=3)
    ref = Reference(licl, reference_calculator(str(tiny_checkpoint), "float64"))
    atoms = licl + Atoms("Ar2", positions=[[2.0, 1.2, 1.4], [7.1, 3.9, 3.5]])
    lj = "pair_coeff 1 3 {s}0.01 3.0\npair_coeff 2 3 {s}0.01 2.5\npair_coeff 3 3 {s}0.02 3.4\n"
    runs = {"hybrid": f"pair_style hybrid ionmd {tiny_f64} lj/cut 6.0\n"
                      f"pair_coeff * * ionmd Cl Li NULL\n" + lj.format(s="lj/cut "),
            "lj": "pair_style lj/cut 6.0\npair_coeff * * 0.0 1.0\n" + lj.format(s="")}
    out = {}
    for name, pair in runs.items():
        d = tmp_path / name
        d.mkdir()
        write_data(atoms, d / "s.data", ["Cl", "Li", "Ar"])
        proc = run_lmp(f"units metal\natom_style atomic\nread_data s.data\n{pair}{THERMO}run 0\n",
                       d, nprocs=nprocs)
        out[name] = (thermo_table(proc.stdout, NCOLS)[-1],
                     np.loadtxt(d / "out.dump", skiprows=9))
    (row_h, dump_h), (row_l, dump_l) = out["hybrid"], out["lj"]
    assert row_h[1] - row_l[1] == pytest.approx(ref.energy, abs=1e-10)
    model_forces = dump_h[:, 1:4] - dump_l[:, 1:4]
    assert np.abs(model_forces[:16] - ref.forces).max() <= 1e-10
    assert np.abs(model_forces[16:]).max() <= 1e-10
    assert np.abs(dump_h[:16, 4] - dump_l[:16, 4] - ref.energies).max() <= 1e-10
    assert row_h[2] == pytest.approx(row_h[1], abs=1e-9)
    p = (row_h[3:9] - row_l[3:9]) / EV_PER_A3_TO_BAR      # same box: the model's pressure
    assert np.abs(-np.array([p[0], p[1], p[2], p[5], p[4], p[3]]) - ref.stress).max() <= 1e-10


def test_box_relax_finds_the_calculators_lattice(tiny_f64, tiny_checkpoint, tmp_path):
    """`fix box/relax tri 0.0` + `minimize` of a sheared 2-atom cell with a displaced atom
    ends at the lattice that ASE's FrechetCellFilter + BFGS finds with SevenNet's own
    calculator (the pressure is the calculator's stress all the way down)."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    atoms = bulk("LiCl", "rocksalt", a=4.95)
    atoms.set_cell(atoms.cell @ np.array([[1.0, 0.02, 0.0], [0.0, 0.98, 0.01], [0.0, 0.0, 1.03]]),
                   scale_atoms=True)
    atoms.positions[1] += [0.05, -0.03, 0.02]
    atoms = to_lammps_frame(atoms)
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(atoms, tmp_path / "s.data", ELEMENTS)
    script = (f"units metal\natom_style atomic\nread_data s.data\n{PAIR.format(model=tiny_f64)}\n"
              "fix r all box/relax tri 0.0 vmax 0.001\nminimize 0 1e-10 5000 50000\n"
              'print "CELL $(cella:%.15g) $(cellb:%.15g) $(cellc:%.15g) $(cellalpha:%.15g) '
              '$(cellbeta:%.15g) $(cellgamma:%.15g) $(pe:%.15g)"\n')
    proc = run_lmp(script, tmp_path, env={"OMP_NUM_THREADS": "1"})
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("CELL")][-1]
    lammps = np.array(line.split()[1:], float)

    relaxed = atoms.copy()
    relaxed.calc = reference_calculator(str(tiny_checkpoint), "float64")
    # one thread: on a busy machine torch's thread pool makes each 2-atom call ~50x slower
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert BFGS(FrechetCellFilter(relaxed), logfile=None).run(fmax=1e-6, steps=300)
    finally:
        torch.set_num_threads(threads)
    cellpar = relaxed.cell.cellpar()
    assert abs(cellpar[0] - atoms.cell.cellpar()[0]) > 0.05      # it did move
    np.testing.assert_allclose(lammps[:3], cellpar[:3], atol=1e-5)
    np.testing.assert_allclose(lammps[3:6], cellpar[3:], atol=1e-3)
    assert lammps[6] == pytest.approx(relaxed.get_potential_energy(), abs=1e-8)


@pytest.mark.mpi
@pytest.mark.parametrize("nprocs", [1, 2])
def test_restart_and_rerun_continue_the_run(tiny_f64, licl, nprocs, tmp_path):
    """read_restart (with pair_style and pair_coeff given again: the style is not in the
    restart file) continues the run step for step, and `rerun` of its dump gives its
    energies and pressures (velocities left out: the virial part only)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl, tmp_path / "s.data", ELEMENTS)
    pair = PAIR.format(model=tiny_f64)
    thermo = ("thermo_style custom step pe pxx pyy pzz pxy pxz pyz\n"
              "thermo_modify format float %.17g\nthermo 5\n")
    md = "fix 1 all nve\ntimestep 0.001\n"
    first = run_lmp(f"units metal\natom_style atomic\nread_data s.data\n{pair}\n{thermo}"
                    f"velocity all create 600 5\n{md}run 10\nwrite_restart r.rst\n"
                    "compute p all pressure NULL virial\nthermo_style custom step pe c_p[1] "
                    "c_p[2] c_p[3] c_p[4] c_p[5] c_p[6]\nthermo_modify format float %.17g\n"
                    "dump d all custom 5 traj.dump id type x y z\n"
                    "dump_modify d format float %.17g\nrun 10\n", tmp_path, nprocs=nprocs)
    again = run_lmp(f"read_restart {tmp_path / 'r.rst'}\n{pair}\n{thermo}{md}run 10\n",
                    tmp_path / "again", nprocs=nprocs)
    rerun = run_lmp(f"units metal\natom_style atomic\nread_data s.data\n{pair}\n{thermo}"
                    "rerun traj.dump dump x y z\n", tmp_path, nprocs=nprocs)
    continued = thermo_table(first.stdout, 8)[-3:]          # steps 10, 15, 20
    restarted = thermo_table(again.stdout, 8)
    assert list(restarted[:, 0]) == [10, 15, 20]
    np.testing.assert_allclose(restarted[:, 1], continued[:, 1], rtol=1e-12)
    reread = thermo_table(rerun.stdout, 8)
    assert list(reread[:, 0]) == [10, 15, 20]
    np.testing.assert_allclose(reread[:, 1:], continued[:, 1:], rtol=1e-9, atol=1e-6)


@pytest.mark.mpi
@pytest.mark.parametrize("skin, halo_named", [(2.0, False), (3.0, True)])
def test_tiled_comm_with_a_shell_wider_than_the_box_says_why(tiny_f64, skin, halo_named,
                                                             tmp_path):
    """comm_style tiled keeps one image per atom: where the redundant ghost shell (2 x 4 A
    + skin) is wider than the box, the stop names the shell and the ways out, not only
    LAMMPS's 'Communication cutoff ... cannot exceed periodic box length' (a cutoff the
    script never set); 'ghost halo' is offered only where its shell fits the box."""
    atoms = rattled_licl() if not halo_named else rattled_licl().repeat((2, 2, 2))
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(atoms, tmp_path / "s.data", ELEMENTS)
    script = (f"units metal\natom_style atomic\nread_data s.data\ncomm_style tiled\n"
              f"neighbor {skin} bin\npair_style ionmd {tiny_f64} ghost redundant\n"
              "pair_coeff * * Cl Li\nbalance 1.0 rcb\nrun 0\n")
    proc = run_lmp(script, tmp_path, nprocs=2, check=False)
    assert proc.returncode != 0
    shell = 8.0 + skin
    assert (f"needs the atoms within {shell:.3f} A of each subdomain (a redundant ghost shell "
            f"of 2 layers x 4 A cutoff + {skin:g} A skin)") in proc.stdout
    assert "use comm_style brick" in proc.stdout
    assert ("'ghost halo'" in proc.stdout.split("use comm_style brick")[1]) == halo_named
