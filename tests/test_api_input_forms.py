"""The Python API takes what a notebook passes or refuses it saying what to do, never misreads
it: uneven or non-increasing Trajectory steps (a wrong D before), a species given as one str
(``list("Li")`` is ``['L', 'i']``), lists for arrays, one trajectory path, a pymatgen
Structure where a composition or ASE Atoms is taken, a noble gas in a composition, a minimum
width ``"8A"`` for make_supercell, and the replica folder names the docs list."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from ionmd.analysis.conductivity import charge_msd, collective_conductivity
from ionmd.analysis.diffusion import diffusion
from ionmd.analysis.msd import compute_msd
from ionmd.analysis.trajectory import Trajectory, read_lammps_trajectory
from ionmd.errors import AnalysisError, IonmdError

ROOT = Path(__file__).resolve().parents[1]
D_TRUE = 0.05          # A^2/ps = 5e-6 cm^2/s
FRAME_PS = 0.1         # 100 steps of 1 fs


def gaussian_walk(n_frames=301, n_li=32, n_cl=8, seed=3, drift=(0.0, 0.0, 0.0)):
    """Li on a Gaussian walk of known D, Cl still; every atom carried by ``drift`` (A over
    the run), as a drifting framework carries the whole cell."""
    rng = np.random.default_rng(seed)
    li = rng.normal(0.0, np.sqrt(2 * D_TRUE * FRAME_PS), (n_frames, n_li, 3)).cumsum(0)
    cl = np.zeros((n_frames, n_cl, 3)) + rng.uniform(0, 12, (1, n_cl, 3))
    pos = np.concatenate([li, cl], 1)
    pos = pos + np.linspace(0, 1, n_frames)[:, None, None] * np.asarray(drift)
    boxes = np.repeat(np.eye(3)[None] * 12.0, n_frames, 0)
    elements = np.array(["Li"] * n_li + ["Cl"] * n_cl)
    masses = np.where(elements == "Li", 6.94, 35.45)
    return pos, boxes, np.arange(n_frames) * 100, elements, masses


def test_evenly_spaced_walk_gives_its_D_and_gaps_or_disorder_are_refused():
    pos, boxes, steps, elements, masses = gaussian_walk()
    even = diffusion(Trajectory(pos, boxes, steps, elements, masses, 1.0), "Li",
                     fit_start_ps=1.0)
    lo, hi = even.D_ci95
    assert lo <= D_TRUE * 1e-4 <= hi          # the reference: the walk's own D
    gap = steps.copy()
    gap[150:] += 50_000                       # 50 ps missing: D was 7.45e-6 for 5.00e-6
    with pytest.raises(AnalysisError, match=r"not evenly spaced: frame 150 .*resample"):
        Trajectory(pos, boxes, gap, elements, masses, 1.0)
    for bad, frame in ((steps[::-1], 1), (np.r_[steps[:10], steps[9:-1]], 10)):
        with pytest.raises(AnalysisError, match=rf"strictly increasing: frame {frame} "):
            Trajectory(pos, boxes, bad, elements, masses, 1.0)
    with pytest.raises(AnalysisError, match=r"masses \(39,\) \(expected \(40,\)\)"):
        Trajectory(pos, boxes, steps, elements, masses[:-1], 1.0)


def test_lists_are_taken_as_arrays():
    pos, boxes, steps, elements, masses = gaussian_walk(n_frames=101)
    arrays = Trajectory(pos, boxes, steps, elements, masses, 1.0)
    lists = Trajectory(pos.tolist(), boxes.tolist(), steps.tolist(), elements.tolist(),
                       masses.tolist(), 1.0)
    assert lists.frame_interval_ps == pytest.approx(FRAME_PS)
    np.testing.assert_array_equal(lists.indices("Li"), np.arange(32))
    np.testing.assert_allclose(compute_msd(lists, "Li").msd, compute_msd(arrays, "Li").msd)


def test_one_species_str_is_one_species_everywhere():
    pos, boxes, steps, elements, masses = gaussian_walk(drift=(3.0, -2.0, 1.5))
    traj = Trajectory(pos, boxes, steps, elements, masses, 1.0)
    as_str, as_list = traj.framework_drift_removed("Li"), traj.framework_drift_removed(["Li"])
    np.testing.assert_array_equal(as_str.positions, as_list.positions)
    # the framework (Cl) is still once its drift is removed: the drift was removed
    np.testing.assert_allclose(as_str.positions[:, 32:], pos[:1, 32:].repeat(len(pos), 0),
                               atol=1e-9)
    charges, lags = {"Li": 1.0, "Cl": -1.0}, np.array([1, 5, 20])
    np.testing.assert_array_equal(charge_msd(as_list, charges, "Li", lags),
                                  charge_msd(as_list, charges, ["Li"], lags))
    sigma = [collective_conductivity(as_list, charges, 600.0, m).sigma for m in ("Li", ["Li"])]
    assert sigma[0] == sigma[1]
    with pytest.raises(AnalysisError, match="one species"):
        compute_msd(as_list, ["Li"])


def _write_lammps_run(folder: Path, pos: np.ndarray, boxes: np.ndarray, steps: np.ndarray,
                      types: np.ndarray) -> tuple[Path, Path]:
    """A data file (atomic style) and a ``dump custom`` of x y z (wrapped as LAMMPS writes)."""
    L = boxes[0, 0, 0]
    data = folder / "md.data"
    rows = "\n".join(f"{i + 1} {t} {x % L:.6f} {y % L:.6f} {z % L:.6f}"
                     for i, (t, (x, y, z)) in enumerate(zip(types, pos[0])))
    data.write_text(f"LAMMPS data\n\n{len(types)} atoms\n2 atom types\n\n0 {L} xlo xhi\n"
                    f"0 {L} ylo yhi\n0 {L} zlo zhi\n\nMasses\n\n1 6.94\n2 35.45\n\n"
                    f"Atoms # atomic\n\n{rows}\n")
    dump = folder / "md.dump"
    with open(dump, "w") as f:
        for step, frame in zip(steps, pos):
            f.write(f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{len(types)}\n"
                    f"ITEM: BOX BOUNDS pp pp pp\n0 {L}\n0 {L}\n0 {L}\nITEM: ATOMS id type x y z\n")
            f.writelines(f"{i + 1} {t} {x % L:.6f} {y % L:.6f} {z % L:.6f}\n"
                         for i, (t, (x, y, z)) in enumerate(zip(types, frame)))
    return data, dump


def test_one_trajectory_path_is_read_as_one_file(tmp_path):
    pos, boxes, steps, elements, _ = gaussian_walk(n_frames=21, n_li=4, n_cl=2)
    data, dump = _write_lammps_run(tmp_path, pos, boxes, steps,
                                   np.where(elements == "Li", 1, 2))
    listed = read_lammps_trajectory(data, [dump], timestep_fs=1.0)
    for one in (dump, str(dump)):
        alone = read_lammps_trajectory(str(data), one, timestep_fs=1.0)
        np.testing.assert_array_equal(alone.positions, listed.positions)
        np.testing.assert_array_equal(alone.steps, steps)
    # the reference: the walk itself, unwrapped back from the dump's 6 decimals
    np.testing.assert_allclose(listed.positions - listed.positions[0], pos - pos[0], atol=2e-6)


def _rock_salt(disordered=False):
    from pymatgen.core import Lattice, Structure

    li = {"Li": 0.5, "Na": 0.5} if disordered else "Li"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.13), [li, "Cl"],
                                         [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_noble_gases_and_structures_in_the_oxidation_state_guess():
    from ionmd.structures import guess_oxidation_states, transport_charges
    from ionmd.structures.charges import oxidation_guess

    for formula, named in (("LiAr", "Ar"), ("NeAr", "Ne, Ar"), ("Li2He", "He")):
        guess = oxidation_guess(formula)
        assert guess.states == {} and named in guess.note and "noble gas" in guess.note
    assert transport_charges("LiAr") == {"Li": 1.0}   # the alkali's one state, as for NaAu
    from ase.build import bulk

    structure = _rock_salt()
    assert guess_oxidation_states(structure) == {"Li": 1.0, "Cl": -1.0}
    assert guess_oxidation_states(bulk("NaCl", "rocksalt", a=5.64)) == {"Na": 1.0, "Cl": -1.0}
    with pytest.raises(IonmdError, match="give a formula"):
        guess_oxidation_states(3)


def test_make_supercell_takes_a_minimum_width_as_protocols_do():
    from pymatgen.core import Lattice, Structure

    from ionmd.structures import make_supercell

    s = Structure(Lattice.from_parameters(4.0, 5.0, 7.0, 70, 80, 110), ["Li", "Cl"],
                  [[0, 0, 0], [0.5, 0.5, 0.5]])
    m = s.lattice.matrix
    widths = [abs(np.linalg.det(m)) / np.linalg.norm(np.cross(m[(i + 1) % 3], m[(i + 2) % 3]))
              for i in range(3)]
    reps = [int(np.ceil(8.0 / w)) for w in widths]     # the smallest repetition reaching 8 A
    big = make_supercell(s, "8A")
    np.testing.assert_allclose(big.lattice.matrix, np.diag(reps) @ m, atol=1e-9)
    assert big == make_supercell(s, min_width=8.0)


def test_screen_takes_an_ordered_structure_and_refuses_a_disordered_one():
    from pymatgen.io.ase import AseAtomsAdaptor

    from ionmd.screen.screen import plan_screen

    structure = _rock_salt()
    plan = plan_screen(structure)
    reference = plan_screen(AseAtomsAdaptor.get_atoms(structure))
    assert plan.grid == reference.grid and plan.n_evaluations == reference.n_evaluations
    with pytest.raises(IonmdError, match="partially occupied.*order_structure"):
        plan_screen(_rock_salt(disordered=True))
    with pytest.raises(IonmdError, match="ASE Atoms or a pymatgen Structure"):
        plan_screen("LiCl")


def test_replica_folders_are_those_the_docs_list(tmp_path):
    from ionmd.analysis.run_files import REPLICA_FOLDER, folder_temperature, structure_name

    sentence = re.search(r"nor a replica folder \(([^)]*)\)", " ".join(
        (ROOT / "docs" / "analysis.md").read_text().split())).group(1)
    listed = re.findall(r"`([A-Za-z_-]+\d+)`", sentence)
    prefixes = re.match(r"\(([a-z|]+)\)", REPLICA_FOLDER.pattern).group(1).split("|")
    # every prefix the code takes has an example in the docs, and every example is taken
    assert sorted({re.match(r"[a-z]+", n).group() for n in listed}) == sorted(prefixes)
    for name in listed + ["run_2", "Seed-10"]:
        run = tmp_path / "LiCl" / "T600K" / name
        run.mkdir(parents=True)
        assert structure_name(run) == "LiCl" and folder_temperature(run) == 600.0
    for name in ("runs", "r0a", "rep"):
        assert not REPLICA_FOLDER.fullmatch(name)
