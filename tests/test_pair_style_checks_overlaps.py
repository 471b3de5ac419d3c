"""Overlapping atoms in the input: a run whose model output is non-finite at its first
step names the closest pair (IDs, distance) and says the structure is at fault (it told
to 'check the previous dump frames and lower the timestep' at step 0, where there are no
frames); later steps keep the dynamics advice. At a given structure (a run's first step,
every rerun frame) without a pair under 0.5 A the model is named as the likely cause.
Atoms closer than 0.5 A at each run's setup are named in a warning even where the model
stays finite. The pairs are checked against minimum-image
distances computed here from the data file. Runs the real lmp on 8-16 atoms."""

import re

import numpy as np
import pytest
from ase.geometry import get_distances
from ase.io import read

from contract_models import NonFiniteModel, save_contract_model
from lammps_runner import run_lmp, write_data
from structures import licl_supercell

ELEMENTS = ["Li", "Cl"]
PAIR = r"atoms (\d+) and (\d+),? (?:are )?([0-9.]+) A apart"


def _distances(positions, cell):
    """Minimum-image distances of every pair (atom IDs 1..N in order), the diagonal inf."""
    _, d = get_distances(positions, cell=cell, pbc=True)
    np.fill_diagonal(d, np.inf)
    return d


def _named_pairs(text: str):
    return [(int(a), int(b), float(r)) for a, b, r in re.findall(PAIR, " ".join(text.split()))]


def _nan_model(path, r_bad):
    return save_contract_model(NonFiniteModel(r_bad), path, cutoff=4.0, elements=ELEMENTS)


@pytest.mark.parametrize("nprocs", [1, 2])
def test_data_file_read_twice_names_an_overlapping_pair_at_step_0(tmp_path, nprocs):
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ELEMENTS)
    model = _nan_model(tmp_path / "nan.pt", 1.9)
    proc = run_lmp(f"""units metal
atom_style atomic
read_data s.data
read_data s.data add append
pair_style ionmd {model}
pair_coeff * * Li Cl
velocity all create 300 1
fix 1 all nve
run 20
""", tmp_path, nprocs=nprocs, check=False)
    out = " ".join(proc.stdout.split())
    assert proc.returncode != 0
    assert "non-finite energy or force at step" in out
    assert "previous dump frames" not in out
    if nprocs == 1:     # on 2 ranks each stopping rank prints its line: they may interleave
        assert "non-finite energy or force at step 0, the first step of this run" in out
        assert "structure the run starts from is at fault" in out and "read twice" in out
    atoms = read(tmp_path / "s.data", format="lammps-data", atom_style="atomic")
    d = _distances(np.vstack([atoms.positions, atoms.positions]), atoms.cell)
    named = _named_pairs(out)
    # the setup warning (closest of all ranks) and the error (of each rank that stopped)
    assert len(named) >= (2 if nprocs == 1 else 1)
    assert "WARNING: pair_style ionmd: atoms" in proc.stdout
    for i, j, r in named:
        assert i < j and abs(d[i - 1, j - 1] - r) < 1e-5
        assert abs(r - d.min()) < 1e-5 and r < 1e-5    # an exactly overlapping pair


def test_atom_put_next_to_another_is_named(tmp_path, morse):
    """One Cl 0.012 A from a Li: a finite model runs with a warning naming the pair (the
    audit's pe -1.15e6 eV came silently); a model that turns non-finite stops at step 0
    naming the same pair."""
    atoms = licl_supercell(rep=1)
    li, cl = 0, int(np.flatnonzero(np.array(atoms.get_chemical_symbols()) == "Cl")[2])
    atoms.positions[cl] = atoms.positions[li] + [0.007, -0.006, 0.0073]
    write_data(atoms, tmp_path / "s.data", ELEMENTS)
    written = read(tmp_path / "s.data", format="lammps-data", atom_style="atomic")
    d = _distances(written.positions, written.cell)
    expected = sorted(np.unravel_index(np.argmin(d), d.shape))
    assert d.min() < 0.5 and np.sort(d, axis=None)[2] > 0.5    # one pair (twice in d)
    script = ("units metal\natom_style atomic\nread_data s.data\npair_style ionmd {}\n"
              "pair_coeff * * Li Cl\nrun 0\nprint DONE\n")
    finite = run_lmp(script.format(morse), tmp_path, check=False)
    assert finite.returncode == 0 and "DONE" in finite.stdout
    warned = [line for line in finite.stdout.splitlines()
              if line.startswith("WARNING: pair_style ionmd: atoms")]
    assert len(warned) == 1 and "closer than 0.5 A" in warned[0]
    (i, j, r), = _named_pairs(warned[0])
    assert [i - 1, j - 1] == expected and abs(r - d.min()) < 1e-5

    model = _nan_model(tmp_path / "nan.pt", 1.0)
    stopped = run_lmp(script.format(model), tmp_path, check=False)
    error = " ".join(line for line in stopped.stdout.splitlines() if line.startswith("ERROR"))
    assert stopped.returncode != 0 and "at step 0, the first step of this run" in error
    (i, j, r), = _named_pairs(error)
    assert [i - 1, j - 1] == expected and abs(r - d.min()) < 1e-5


def test_non_finite_output_later_in_a_run_keeps_the_dynamics_advice(tmp_path):
    """The model turns NaN below 2.3 A and pulls atoms together (dE/dr > 0): a 300 K start
    from rock salt (2.57 A apart) gets there after some steps, so the dynamics is at fault."""
    write_data(licl_supercell(rep=1, rattle=0.0), tmp_path / "s.data", ELEMENTS)
    model = _nan_model(tmp_path / "nan.pt", 2.3)
    proc = run_lmp(f"""units metal
atom_style atomic
read_data s.data
pair_style ionmd {model}
pair_coeff * * Li Cl
velocity all create 300 1
fix 1 all nve
timestep 0.002
thermo 1
run 2000
""", tmp_path, check=False)
    error = " ".join(line for line in proc.stdout.splitlines() if line.startswith("ERROR"))
    step = re.search(r"non-finite energy or force at step (\d+) \(atoms too close", error)
    assert proc.returncode != 0 and step and int(step.group(1)) > 0, proc.stdout[-2000:]
    assert "previous dump frames" in error and "first step" not in error
    (i, j, r), = _named_pairs(error)
    assert i < j and r < 2.3    # the model is finite at every distance above 2.3 A
    assert "WARNING: pair_style ionmd: atoms" not in proc.stdout    # none closer than 0.5 A


def test_a_model_failing_without_overlaps_is_named_at_step_0(tmp_path):
    """A model non-finite at every pair (below 3.9 A, cutoff 4 A) on rock salt, closest pair
    ~2.5 A: the structure is fine, the model is at fault; the message blamed overlapping
    atoms (a data file read twice) whatever the distances."""
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ELEMENTS)
    model = _nan_model(tmp_path / "nan.pt", 3.9)
    proc = run_lmp(f"units metal\natom_style atomic\nread_data s.data\npair_style ionmd {model}\n"
                   "pair_coeff * * Li Cl\nrun 0\n", tmp_path, check=False)
    error = " ".join(line for line in proc.stdout.splitlines() if line.startswith("ERROR"))
    assert proc.returncode != 0 and "at step 0, the first step of this run" in error, error
    assert "overlapping atoms" not in error and "read twice" not in error
    assert "with no atoms closer than 0.5 A" in error
    assert f"the model itself is the likely cause: model file {model} (elements Li Cl)" in error
    atoms = read(tmp_path / "s.data", format="lammps-data", atom_style="atomic")
    d = _distances(atoms.positions, atoms.cell)
    (i, j, r), = _named_pairs(error)
    assert abs(d[i - 1, j - 1] - r) < 1e-5 and abs(r - d.min()) < 1e-5 and r > 2.0


def _dump(path, atoms, frames) -> None:
    """A LAMMPS text dump (id type x y z) of `atoms` in each (step, positions) frame."""
    types = [ELEMENTS.index(s) + 1 for s in atoms.get_chemical_symbols()]
    lo_hi = "\n".join(f"0 {float(length)!r}" for length in atoms.cell.lengths())
    text = ""
    for step, positions in frames:
        text += (f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{len(atoms)}\n"
                 f"ITEM: BOX BOUNDS pp pp pp\n{lo_hi}\nITEM: ATOMS id type x y z\n")
        text += "".join(f"{k + 1} {t} {x:.17g} {y:.17g} {z:.17g}\n"
                        for k, (t, (x, y, z)) in enumerate(zip(types, positions)))
    path.write_text(text)


def test_every_rerun_frame_is_a_given_structure(tmp_path):
    """rerun integrates nothing: a frame the model fails on (a pair at 2.2 A, the model NaN
    below 2.3 A) at a later step was met with 'check the previous dump frames and lower the
    timestep'. Now the frame is given: no pair under 0.5 A, so the model is named."""
    atoms = licl_supercell(rep=1, rattle=0.0)
    write_data(atoms, tmp_path / "s.data", ELEMENTS)
    written = read(tmp_path / "s.data", format="lammps-data", atom_style="atomic")
    moved = written.positions.copy()
    d0 = _distances(moved, written.cell)
    j = int(np.argmin(d0[0]))    # a nearest neighbour of atom 1, 2.57 A away
    moved[0] += (moved[j] - moved[0]) * (1 - 2.2 / d0[0, j])    # now 2.2 A from it
    d = _distances(moved, written.cell)
    assert d0.min() > 2.3 and abs(d.min() - 2.2) < 1e-9
    _dump(tmp_path / "frames.dump", written, [(0, written.positions), (100, moved)])
    model = _nan_model(tmp_path / "nan.pt", 2.3)
    proc = run_lmp(f"units metal\natom_style atomic\nread_data s.data\npair_style ionmd {model}\n"
                   "pair_coeff * * Li Cl\nrerun frames.dump dump x y z\n", tmp_path, check=False)
    error = " ".join(line for line in proc.stdout.splitlines() if line.startswith("ERROR"))
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "at step 100, a frame of this rerun" in error
    assert "previous dump frames" not in error and "timestep" not in error
    assert "rerun integrates nothing" in error and "the model itself is the likely cause" in error
    (i, k, r), = _named_pairs(error)
    assert [i, k] == sorted([1, j + 1]) and abs(r - 2.2) < 1e-5


def test_a_close_pair_made_before_a_later_run_is_named_too(tmp_path, morse):
    """Each run's setup names its closest pair under 0.5 A: the warning was given once per
    pair style, so an atom put next to another before the second run went unnamed."""
    write_data(licl_supercell(rep=1), tmp_path / "s.data", ELEMENTS)
    written = read(tmp_path / "s.data", format="lammps-data", atom_style="atomic")
    first, second = np.array([2.6, 0.05, 0.05]), np.array([0.087, 2.63, 2.586])
    proc = run_lmp(f"""units metal
atom_style atomic
read_data s.data
pair_style ionmd {morse}
pair_coeff * * Li Cl
create_atoms 2 single {first[0]} {first[1]} {first[2]} units box
run 0
group extra id 9
delete_atoms group extra
create_atoms 2 single {second[0]} {second[1]} {second[2]} units box
run 0
print DONE
""", tmp_path, check=False)
    assert proc.returncode == 0 and "DONE" in proc.stdout, proc.stdout[-2000:]
    warned = [line for line in proc.stdout.splitlines()
              if line.startswith("WARNING: pair_style ionmd: atoms")]
    assert len(warned) == 2
    for line, added in zip(warned, (first, second)):
        d = _distances(np.vstack([written.positions, added]), written.cell)[8]
        (i, j, r), = _named_pairs(line)
        assert (i, j) == (int(np.argmin(d)) + 1, 9) and abs(r - d.min()) < 1e-5 < 0.5 - r
