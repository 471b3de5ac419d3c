"""Failure detection: each mode found on a trajectory/log made to have it, at the right
step, and none on a healthy run; thermo parsing of real-looking logs; Kaplan–Meier
survival against a hand computation."""

import numpy as np
import pytest
from ase.build import bulk

from ionmd.analysis.failure import detect_failures
from ionmd.analysis.framework import framework_species
from ionmd.analysis.survival import kaplan_meier, survival_curves
from ionmd.lammps.thermo_log import parse_thermo

DUMP_EVERY, N_FRAMES, TARGET = 10, 60, 800.0
BREAK = 30  # frame (and thermo row) where the made-to-fail runs break


def healthy():
    """Rock-salt LiCl 2x2x2 (64 atoms) vibrating 0.08 A about its sites; T ~ target."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)
    rng = np.random.default_rng(0)
    pos = atoms.positions[None] + 0.08 * rng.standard_normal((N_FRAMES, len(atoms), 3))
    boxes = np.repeat(atoms.cell.array[None], N_FRAMES, axis=0)
    steps = np.arange(N_FRAMES) * DUMP_EVERY
    thermo = {"Step": steps.astype(float), "Temp": TARGET * (1 + 0.2 * rng.standard_normal(N_FRAMES)),
              "PotEng": -200 + rng.standard_normal(N_FRAMES), "Volume": np.full(N_FRAMES, atoms.get_volume()),
              "Atoms": np.full(N_FRAMES, 64.0)}
    return dict(steps=steps, timestep_fs=2.0, positions=pos, boxes=boxes,
                elements=np.array(atoms.get_chemical_symbols()), masses=atoms.get_masses(),
                framework=["Cl"], thermo=thermo, log_text="", target_temperature_K=TARGET)


def test_healthy_run_has_no_failure():
    report = detect_failures(**healthy())
    assert not report.failed, report.to_dict()
    assert report.run_end_ps == pytest.approx((N_FRAMES - 1) * DUMP_EVERY * 2e-3)


def _break(mode):
    run = healthy()
    pos, boxes, th = run["positions"], run["boxes"], run["thermo"]
    cl = run["elements"] == "Cl"
    if mode in ("lost_atoms", "lost_atoms_at_setup"):
        # mid-run the error follows the last row LAMMPS printed; at the setup of a next
        # run it follows that run's header (and is at the step of the last row)
        last = (f"   Step   Temp   PotEng\n{BREAK * DUMP_EVERY:10d} 800.0 -200.0\n"
                if mode == "lost_atoms"
                else "Loop time of 1.0 on 1 procs\n   Step   Temp   PotEng\n")
        run["log_text"] = (last + "WARNING: something\n"
                           "ERROR: Lost atoms: original 64 current 63 (../thermo.cpp:493)\n")
        for k in th:
            th[k] = th[k][:BREAK + 1]
    elif mode == "lost_atoms_thermo":
        th["Atoms"][BREAK:] = 62
    elif mode == "volume_change":
        boxes[BREAK:] *= 1.16                      # 1.16^3 = 1.56
    elif mode == "volume_jump":                    # no frame in between: no change of basis
        boxes[BREAK:] *= 2.5
    elif mode == "nan_thermo":
        th["PotEng"][BREAK] = np.nan
    elif mode == "nan_coordinates":
        pos[BREAK:, 5] = np.nan
    elif mode == "temperature_runaway":
        th["Temp"][BREAK:] = 3.0 * TARGET
    elif mode == "framework_melting":
        rng = np.random.default_rng(1)
        walk = np.cumsum(0.6 * rng.standard_normal((N_FRAMES - BREAK, cl.sum(), 3)), axis=0)
        pos[BREAK:, cl] += walk
    elif mode == "collapsed_distance":
        li = np.flatnonzero(~cl)[0]
        pos[BREAK:, li] = pos[BREAK:, np.flatnonzero(cl)[0]] + 0.3
    return run


@pytest.mark.parametrize("mode, expected, earliest, latest", [
    # LAMMPS checks before printing: the rows end before the thermo output that found them
    ("lost_atoms", "lost_atoms", BREAK + 1, BREAK + 1),
    ("lost_atoms_at_setup", "lost_atoms", BREAK, BREAK),
    ("lost_atoms_thermo", "lost_atoms", BREAK, BREAK),
    ("volume_change", "volume_change", BREAK, BREAK),
    ("volume_jump", "volume_change", BREAK, BREAK),
    ("nan_thermo", "nan_thermo", BREAK, BREAK),
    ("nan_coordinates", "nan_coordinates", BREAK, BREAK),
    ("temperature_runaway", "temperature_runaway", BREAK, BREAK + 4),
    ("framework_melting", "framework_melting", BREAK + 1, BREAK + 20),
    ("collapsed_distance", "collapsed_distance", BREAK, BREAK),
])
def test_each_failure_mode_is_detected_where_it_happens(mode, expected, earliest, latest):
    report = detect_failures(**_break(mode))
    # the crude melt (framework atoms on random walks) also makes atoms run into each other
    allowed = ({expected, "collapsed_distance"} if mode == "framework_melting"
               # atoms left in place in a cell 2.5 x as long are far from its sites
               else {expected, "framework_melting"} if mode == "volume_jump" else {expected})
    assert expected in report.modes and set(report.modes) <= allowed, report.to_dict()
    first = next(e for e in report.events if e.mode == expected)
    assert earliest * DUMP_EVERY <= first.step <= latest * DUMP_EVERY
    assert first.time_ps == pytest.approx(first.step * 2e-3)
    assert first.temperature_K is not None and np.isfinite(first.temperature_K)


def test_parse_thermo_joins_runs_and_keeps_nan():
    log = """LAMMPS (22 Jul 2025)
Per MPI rank memory allocation (min/avg/max) = 3.1 | 3.1 | 3.1 Mbytes
   Step          Temp          PotEng
         0   800            -10.5
        10   790.5          -10.4
WARNING: a warning line (src/foo.cpp:12)
        20   -nan           inf
Loop time of 1.0 on 1 procs for 20 steps with 8 atoms

   Step          Temp          PotEng         Volume
        20   -nan           inf            100
        30   810            -10.3          101
Loop time of 1.0 on 1 procs for 10 steps with 8 atoms
"""
    th = parse_thermo(log)
    assert th["Step"].tolist() == [0, 10, 20, 30]
    assert np.isnan(th["Temp"][2]) and np.isinf(th["PotEng"][2])
    assert np.isnan(th["Volume"][0]) and th["Volume"][3] == 101


def _two_block_log(thermo, first_cols, second_cols, seam=BREAK):
    """A log.lammps of ``thermo``'s rows: an equilibration ``run`` printing ``first_cols`` up to
    row ``seam``, then a ``run`` printing ``second_cols`` from that row on (LAMMPS repeats
    the seam step)."""
    def block(cols, rows):
        lines = ["   " + "   ".join(cols)]
        lines += [f"{int(thermo['Step'][i]):10d} " + " ".join(f"{thermo[c][i]:.6f}" for c in cols[1:])
                  for i in rows]
        steps = int(thermo["Step"][rows[-1]] - thermo["Step"][rows[0]])   # as LAMMPS counts
        return lines + [f"Loop time of 1.0 on 1 procs for {steps} steps with 64 atoms"]
    n = len(thermo["Step"])
    return "\n".join(["LAMMPS (22 Jul 2025)"] + block(first_cols, range(seam + 1))
                     + block(second_cols, range(seam, n))) + "\n"


def test_a_column_one_run_block_does_not_print_is_no_failure():
    """Equilibration prints step temp pe, production adds press and vol: the columns'
    missing rows are not NaNs LAMMPS printed, but a real ``nan`` still is one."""
    run = healthy()
    th = run["thermo"]
    th["Press"] = np.full(N_FRAMES, 1000.0)
    first, second = ["Step", "Temp", "PotEng", "Atoms"], ["Step", "Temp", "PotEng", "Atoms",
                                                          "Press", "Volume"]
    parsed = parse_thermo(_two_block_log(th, first, second))
    report = detect_failures(**{**run, "thermo": parsed})
    assert not report.failed, report.to_dict()
    assert parsed["Step"].tolist() == th["Step"].tolist()
    for name in second:
        expected = np.arange(N_FRAMES) > BREAK if name in ("Press", "Volume") else np.ones(N_FRAMES, bool)
        assert parsed.printed[name].tolist() == expected.tolist()
        assert np.allclose(parsed[name][expected], th[name][expected])
        assert np.isnan(parsed[name][~expected]).all()       # as before: NaN where not printed
    # a nan LAMMPS printed in a column of the second block is a failure at its step
    th["Press"][BREAK + 5] = np.nan
    report = detect_failures(**{**run, "thermo": parse_thermo(_two_block_log(th, first, second))})
    assert report.modes == ["nan_thermo"]
    assert report.first.step == th["Step"][BREAK + 5] and "['Press']" in report.first.detail


def test_thermo_checks_read_a_column_from_the_block_that_prints_it():
    """Volume and Temp printed by the second block only: the thermo volume check (no
    trajectory here) and the runaway check still see what that block printed."""
    run = healthy()
    th = run["thermo"]
    th["Volume"][BREAK + 10:] *= 1.6
    th["Temp"][BREAK + 10:] = 3.0 * TARGET
    parsed = parse_thermo(_two_block_log(th, ["Step", "PotEng"], ["Step", "PotEng", "Temp", "Volume"]))
    report = detect_failures(steps=run["steps"], timestep_fs=2.0, thermo=parsed,
                             target_temperature_K=TARGET)
    steps = {e.mode: e.step for e in report.events}
    assert set(steps) == {"volume_change", "temperature_runaway"}, report.to_dict()
    assert steps["volume_change"] == th["Step"][BREAK + 10]
    # the running mean over 5 rows of printed T first exceeds 2 x target at its 3rd hot row
    assert steps["temperature_runaway"] == th["Step"][BREAK + 12]
    assert report.events[0].temperature_K == pytest.approx(th["Temp"][BREAK + 10], abs=1e-5)


def test_kaplan_meier_by_hand_and_survival_curves():
    # failures at 1, 2, 2, 4; one replica survives to 3 (censored)
    t, s = kaplan_meier([1, 2, 2, 3, 4], [True, True, True, False, True])
    assert t.tolist() == [0, 1, 2, 4]
    assert s == pytest.approx([1.0, 4 / 5, 4 / 5 * (1 - 2 / 4), 0.0])
    good, bad = detect_failures(**healthy()), detect_failures(**_break("nan_thermo"))
    curves = survival_curves({"LiCl": [good, bad]})
    assert curves["LiCl"]["survival"] == [1.0, 0.5]
    assert curves["LiCl"]["time_ps"][1] == pytest.approx(BREAK * DUMP_EVERY * 2e-3)


def test_runaway_on_a_ramp_is_measured_against_the_ramp():
    """A heating ramp 300 -> 1500 K over 1200 steps (half of it run): T following it is no runaway; T jumping
    to 2.5 x the ramp's target from row 40 on is, at the row where the 5-row mean passes
    2 x the mean target; without the ramp's length the check compares with its end."""
    steps = np.arange(N_FRAMES) * DUMP_EVERY
    target = 300 + 1200 * steps / 1200
    rng = np.random.default_rng(3)
    temp = target * (1 + 0.05 * rng.standard_normal(N_FRAMES))
    ramp = dict(steps=steps, timestep_fs=1.0, target_temperature_K=300.0,
                temperature_end_K=1500.0, ramp_steps=1200)
    assert not detect_failures(thermo={"Step": steps.astype(float), "Temp": temp}, **ramp).failed
    hot = temp.copy()
    hot[40:] = 2.5 * target[40:]
    report = detect_failures(thermo={"Step": steps.astype(float), "Temp": hot}, **ramp)
    mean5 = np.convolve(hot, np.ones(5) / 5, "valid")
    target5 = np.convolve(target, np.ones(5) / 5, "valid")
    expected = steps[np.flatnonzero(mean5 > 2 * target5)[0] + 4]
    assert report.modes == ["temperature_runaway"] and report.first.step == expected
    assert 40 * DUMP_EVERY <= expected <= 44 * DUMP_EVERY
    # unknown ramp length: twice the ramp's end (3000 K) is the limit
    unknown = {**ramp, "ramp_steps": None}
    assert not detect_failures(thermo={"Step": steps.astype(float), "Temp": hot}, **unknown).failed
    hot[50:] = 3100.0
    assert detect_failures(thermo={"Step": steps.astype(float), "Temp": hot},
                           **unknown).first.step == steps[54]


def kaplan_meier_records(times, failed, t):
    """Survival at time ``t`` by the product-limit over individual records: walk the
    replicas in time order (failures before censorings at a tie), each failure
    multiplying by (1 - 1/at risk) where at risk counts those not yet passed."""
    order = sorted(zip(times, [not f for f in failed]))
    s, n = 1.0, len(order)
    for k, (ti, censored) in enumerate(order):
        if ti > t:
            break
        if not censored:
            s *= 1 - 1 / (n - k)
    return s


def test_survival_curves_match_the_product_limit_and_show_censoring():
    """Reports of 40 replicas (failures and runs ending early or complete, with ties)
    against a record-by-record product-limit estimate at many times; the censoring times
    and the longest run are part of the curve (a curve holds its value up to there)."""
    from ionmd.analysis.failure import FailureEvent, FailureReport
    from ionmd.analysis.survival import survival_at

    rng = np.random.default_rng(7)
    reports, times, failed = [], [], []
    for k in range(40):
        end = float(rng.choice([20.0, 50.0, 100.0]))        # killed early, or complete
        t_fail = float(np.round(rng.exponential(80.0), 0))   # integer ps: ties
        if t_fail < end:
            ev = [FailureEvent("framework_melting", int(t_fail * 500), t_fail, 1000.0, "")]
            reports.append(FailureReport(ev, int(end * 500), end))
            times.append(t_fail), failed.append(True)
        else:
            reports.append(FailureReport([], int(end * 500), end))
            times.append(end), failed.append(False)
    assert 5 < sum(failed) < 35 and len(set(times)) < len(times)
    curve = survival_curves({"X": reports})["X"]
    for t in np.linspace(0, 100, 401):
        assert survival_at(curve, t) == pytest.approx(kaplan_meier_records(times, failed, t))
    assert curve["censored_ps"] == sorted(t for t, f in zip(times, failed) if not f)
    assert curve["end_ps"] == 100.0 and np.isnan(survival_at(curve, 100.5))
    # nobody failed: the curve stays at 1 up to the longest run
    none = survival_curves({"X": [FailureReport([], 1000, 2.0), FailureReport([], 500, 1.0)]})["X"]
    assert none["survival"] == [1.0] and none["end_ps"] == 2.0 and none["censored_ps"] == [1.0, 2.0]


@pytest.mark.parametrize("reps, rattle", [((2, 2, 2), 0.1), ((3, 2, 1), 0.3)])
def test_nearest_neighbour_distance_matches_ase(reps, rattle):
    """The framework's mean nearest-neighbour distance (the melt threshold's scale) against
    ASE's neighbour list, also in a cell thinner than the first cutoff tried."""
    from ase.neighborlist import neighbor_list

    from ionmd.analysis.failure import _nn_distance

    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True) * reps
    atoms.rattle(rattle, seed=1)
    cl = atoms[[s == "Cl" for s in atoms.get_chemical_symbols()]]
    i, d = neighbor_list("id", cl, 8.0)
    ref = np.mean([d[i == k].min() for k in range(len(cl))])
    assert _nn_distance(cl.positions, cl.cell.array) == pytest.approx(ref, rel=1e-6)


def test_nearest_neighbour_distance_of_a_large_framework():
    """42 592 Cl of a 85 184-atom cell: pairs within a cutoff, not an N x N matrix (14 GB)."""
    from ionmd.analysis.failure import _nn_distance

    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True) * (22, 22, 22)
    cl = atoms.positions[np.array(atoms.get_chemical_symbols()) == "Cl"]
    assert _nn_distance(cl, atoms.cell.array) == pytest.approx(5.64 / np.sqrt(2), rel=1e-6)


def _rotation(axis, angle):
    """Rodrigues: rotation matrix about the unit ``axis``."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def rotor_crystal(melt=False, n_frames=60, seed=3):
    """An argyrodite-like crystal: PS4 tetrahedra (P-S 2.05 A) on an fcc lattice (a = 9.85 A,
    2x1x1 cells: 8 P, 32 S), Cl on the octahedral holes, 48 Li walking freely. Each PS4
    tumbles (a random walk of its orientation, 25 deg per frame) about its P, which only
    vibrates: a crystal with rotating anions, as thiophosphates are at high temperature.
    ``melt``: every atom walks off instead (a liquid)."""
    rng = np.random.default_rng(seed)
    a = 9.85
    fcc = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    p = np.concatenate([fcc, fcc + [1, 0, 0]]) * a
    cl = np.concatenate([fcc + .5, fcc + [1.5, .5, .5]]) % [2, 1, 1] * a
    arms = 2.05 / np.sqrt(3) * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    box = np.diag([2 * a, a, a])
    orient = [np.eye(3)] * len(p)
    li0 = rng.uniform(0, 1, (48, 3)) @ box
    frames = []
    for t in range(n_frames):
        if t:
            orient = [_rotation(v / np.linalg.norm(v), np.radians(25)) @ o
                      for v, o in zip(rng.standard_normal((len(p), 3)), orient)]
        centres = p + 0.1 * rng.standard_normal(p.shape)
        s = np.concatenate([c + arms @ o.T for c, o in zip(centres, orient)])
        frame = np.concatenate([centres, s, cl + 0.15 * rng.standard_normal(cl.shape),
                                li0 + 0.6 * np.sqrt(t) * rng.standard_normal(li0.shape)])
        if melt:
            frame += 0.8 * np.sqrt(t) * rng.standard_normal(frame.shape)
        frames.append(frame)
    elements = np.array(["P"] * 8 + ["S"] * 32 + ["Cl"] * 8 + ["Li"] * 48)
    return dict(steps=np.arange(n_frames) * DUMP_EVERY, timestep_fs=2.0, positions=np.array(frames),
                boxes=np.repeat(box[None], n_frames, axis=0), elements=elements,
                masses=np.ones(len(elements)), collapse_fraction=0.01)   # point-like Li


CHARGES = {"Li": 1.0, "P": 5.0, "S": -2.0, "Cl": -1.0}


def test_rotating_polyanions_are_no_melt_but_a_liquid_is():
    """The anion sub-lattice of a crystal with tumbling PS4 moves as far as a liquid's (S up
    to 4.1 A from its site): measured on S and Cl (the framework before), the rotor crystal
    was 'molten', and the stopping rule would have ended the run as failed. The PS4 centres
    (P) mark its sites; a liquid moves them too."""
    framework = framework_species(rotor_crystal()["elements"], ["Li"], CHARGES)
    assert framework == ["P"]
    anions_only = detect_failures(**rotor_crystal(), framework=["Cl", "S"])
    assert anions_only.modes == ["framework_melting"]     # what the old rule reported
    assert detect_failures(**rotor_crystal(), framework=framework).modes == []
    liquid = detect_failures(**rotor_crystal(melt=True), framework=framework)
    assert liquid.modes == ["framework_melting"]


def test_framework_species_without_a_cation_sub_lattice():
    """No non-mobile cation, or only a dopant (< 10 % of the non-mobile atoms): the anions;
    no charges: every non-mobile species counts as anion."""
    licl = np.array(["Li"] * 50 + ["Cl"] * 50)
    assert framework_species(licl, ["Li"], {"Li": 1, "Cl": -1}) == ["Cl"]
    doped = np.array(["Li"] * 46 + ["Y"] * 2 + ["Cl"] * 50)
    assert framework_species(doped, ["Li"], {"Li": 1, "Y": 3, "Cl": -1}) == ["Cl"]
    li3ycl6 = np.array(["Li"] * 3 + ["Y"] + ["Cl"] * 6)
    assert framework_species(li3ycl6, ["Li"], {"Li": 1, "Y": 3, "Cl": -1}) == ["Y"]
    assert framework_species(li3ycl6, ["Li"], {}) == ["Cl", "Y"]


def test_a_trajectory_without_charges_finds_the_cations_by_their_guessed_charges(tmp_path, capsys):
    """An extended XYZ of the rotor crystal analysed without --charges: the framework check
    takes pymatgen's oxidation-state guess to know P is a cation (before: P, S and Cl all
    counted as framework, and the tumbling PS4 read as a melt); the liquid is still one."""
    from ase import Atoms
    from ase.io import write

    from ionmd.cli import main

    for name, melt in (("crystal", False), ("liquid", True)):
        run = rotor_crystal(melt=melt)
        (tmp_path / name).mkdir()
        write(tmp_path / name / "md.extxyz",
              [Atoms(run["elements"].tolist(), positions=p, cell=b, pbc=True)
               for p, b in zip(run["positions"], run["boxes"])], format="extxyz")
        assert main(["analyze", str(tmp_path / name), "--failures-only", "--temperature", "800",
                     "--timestep-fs", "2", "--dump-every", str(DUMP_EVERY),
                     "--collapse-fraction", "0.01"]) == 0
    out = capsys.readouterr().out
    crystal, liquid = out.split("liquid", 1)
    assert "framework_melting" not in crystal
    assert "framework_melting" in liquid
