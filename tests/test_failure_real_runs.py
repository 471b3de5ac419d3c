"""Failure detection on real LAMMPS runs (rock-salt NaCl, Tosi-Fumi + Wolf Coulomb, a few
seconds each; tests/failure_nacl_runs.py), read as ``ionmd analyze --failures-only`` reads
an ionmd run directory, against references computed apart from ionmd: the Lindemann
ratio from LAMMPS's image flags, the Cl sub-lattice's Bragg peak, the volume ``fix deform``
prescribes, the thermo rows LAMMPS printed.

What must hold: a melt is flagged where the framework leaves its sites (also when its
frames are too far apart to unwrap, also in a resumed run); a superionic state (mobile Na
in a held Cl framework), small cells at their target temperature, an NpT cell expanding
by 40 % (its sites move with the cell) and a heating ramp are not failures; a volume
blow-up and lost atoms are flagged at the right step with what came before kept.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from failure_nacl_runs import (A, analyze, bragg_peak, lindemann_ratio, lmp, nacl_dir,
                               read_custom)

D_NN_CL = A / np.sqrt(2)          # Cl-Cl nearest-neighbour distance of the lattice
MELT_T = 3500.0


def thermo_rows(text: str) -> np.ndarray:
    """Step and Temp of the thermo rows of a log (our own reading: 9 numeric columns)."""
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 9 and parts[0].isdigit():
            rows.append([float(parts[0]), float(parts[2]), float(parts[7])])
    return np.array(rows)


# ---------------------------------------------------------------- melting

@pytest.fixture(scope="module")
def melt(tmp_path_factory):
    """NaCl (216 atoms) at 3500 K in two pieces resumed from a restart at step 500 (the
    melt falls in the second), thermo every 30 steps, DCD and a reference dump every 50."""
    run = nacl_dir(tmp_path_factory.mktemp("melt") / "melt", temperature_K=MELT_T,
                   dump_every=50, trajectory=["md.0.dcd", "md.1.dcd"],
                   logs=["log.0.lammps", "log.1.lammps"])
    dumps = ("thermo 30\ndump traj all dcd 50 md.{k}.dcd\n"
             "dump ref all custom 50 ref.{k}.dump id type x y z ix iy iz\ndump_modify ref sort id\n")
    lmp(run, f"velocity all create {MELT_T} 12345 mom yes rot no dist gaussian\n"
             f"fix 1 all nvt temp {MELT_T} {MELT_T} 0.1\n{dumps.format(k=0)}run 500\n"
             "write_restart md.restart\n", log="log.0.lammps")
    lmp(run, f"fix 1 all nvt temp {MELT_T} {MELT_T} 0.1\n{dumps.format(k=1)}run 1500\n",
        restart="md.restart", log="log.1.lammps")
    return run


def test_melt_is_flagged_where_the_framework_leaves_its_sites(melt):
    report = analyze(melt)
    steps, lengths, types, pos = read_custom([melt / "ref.0.dump", melt / "ref.1.dump"])
    cl = types == 1
    ratio = lindemann_ratio(pos[:, cl], D_NN_CL)
    peak = bragg_peak(pos[:, cl] / lengths[:, None, :], cells=3)
    assert report["modes"] == ["framework_melting"], report
    first = report["first"]
    expected = steps[np.flatnonzero(ratio > 0.5)[0]]
    assert first["step"] == expected and expected > 500        # in the resumed piece
    # the crystal's Bragg peak is gone (< 0.1, from ~0.5 in the hot crystal) before the
    # melt is reported, which lags by the time a liquid takes to move half a bond
    lost = steps[np.flatnonzero(peak < 0.1)[0]]
    assert lost < first["step"] <= lost + 600
    assert ratio[steps == lost][0] < 0.4                       # not yet there at that step
    # time from step 0, and the temperature of the last thermo row (every 30) before it
    assert first["time_ps"] == pytest.approx(first["step"] * 1e-3)
    rows = thermo_rows((melt / "log.0.lammps").read_text() + (melt / "log.1.lammps").read_text())
    assert first["temperature_K"] == pytest.approx(rows[rows[:, 0] <= first["step"]][-1, 1])
    assert report["run_end_step"] == 2000


def test_melt_dumped_too_seldom_to_unwrap_is_still_flagged(tmp_path):
    """Frames 1 ps apart: a liquid's atoms move further than unwrapping can follow (it
    refuses), the minimum-image displacement from the sites still shows the melt."""
    from ionmd.analysis.run_inputs import run_frames
    from ionmd.analysis.run_spec import load_run_spec
    from ionmd.analysis.unwrapping import unwrap
    from ionmd.errors import AnalysisError

    run = nacl_dir(tmp_path / "sparse", temperature_K=MELT_T, dump_every=1000)
    lmp(run, f"velocity all create {MELT_T} 12345 mom yes rot no dist gaussian\n"
             f"fix 1 all nvt temp {MELT_T} {MELT_T} 0.1\nthermo 100\n"
             "dump traj all dcd 1000 md.dcd\n"
             "dump ref all custom 1000 ref.dump id type x y z ix iy iz\ndump_modify ref sort id\n"
             "run 3000\n")
    frames, elements, _ = run_frames(load_run_spec(run, {}))
    with pytest.raises(AnalysisError, match="unwrapping is ambiguous"):
        unwrap(frames.positions[:, elements == "Cl"], frames.boxes)
    report = analyze(run)
    steps, _, types, pos = read_custom([run / "ref.dump"])
    ratio = lindemann_ratio(pos[:, types == 1], D_NN_CL)
    assert report["modes"] == ["framework_melting"], report
    assert report["first"]["step"] == steps[np.flatnonzero(ratio > 0.5)[0]]


def test_a_truncated_trajectory_is_refused_saying_so(melt, tmp_path, capsys):
    """A run killed while writing: the last DCD frame cut short and the log's last row
    half written. Analysis says what is wrong and how to go on; once the file is cut to
    its whole frames, the failure report is the intact run's up to there."""
    from ionmd.cli import main
    from ionmd.lammps.dcd import truncate_dcd

    intact = analyze(melt)
    run = shutil.copytree(melt, tmp_path / "killed", ignore=shutil.ignore_patterns("analysis"))
    dcd = run / "md.1.dcd"
    dcd.write_bytes(dcd.read_bytes()[:-100])
    log = run / "log.1.lammps"
    log.write_text(log.read_text().rsplit("Loop time", 1)[0][:-40])
    assert main(["analyze", str(run), "--failures-only"]) == 1
    assert "ends in the middle of a frame" in capsys.readouterr().err
    assert truncate_dcd(dcd) == 30                       # 500, 550, ..., 1950
    report = analyze(run)
    assert report["first"] == intact["first"]
    assert report["run_end_step"] == 1980                # the last whole thermo row


# ---------------------------------------------------------------- not failures

def test_superionic_state_is_not_a_failure(tmp_path, capsys):
    """Na diffusing liquid-like at 4000 K through a Cl framework held on its sites (springs)
    with 10 Cl vacancies: no failure; and the mobile species is what run.json names."""
    from ionmd.cli import main

    cl_sites = list(range(1, 40, 4))          # ASE's rock salt alternates Na, Cl
    run = nacl_dir(tmp_path / "superionic", temperature_K=4000.0, dump_every=50,
                   delete=cl_sites, dump_unwrapped=True)
    lmp(run, "velocity all create 4000 12345 mom yes rot no dist gaussian\n"
             "group cl type 1\nfix tether cl spring/self 20.0\n"
             "fix 1 all nvt temp 4000 4000 0.1\nthermo 50\n"
             "dump traj all dcd 50 md.dcd\ndump_modify traj unwrap yes\n"
             "dump ref all custom 250 ref.dump id type x y z ix iy iz\ndump_modify ref sort id\n"
             "run 4000\n")
    steps, _, types, pos = read_custom([run / "ref.dump"])
    msd = {t: ((pos[-1, types == t] - pos[0, types == t]) ** 2).sum(-1).mean() for t in (1, 2)}
    assert msd[2] > 2.0 and msd[2] > 30 * msd[1]      # Na moves, Cl stays (A^2 over 4 ps)
    report = analyze(run)
    assert not report["failed"], report
    # a mobile species the run does not hold is refused (else Na would count as framework)
    assert main(["analyze", str(run), "--failures-only", "--mobile", "Li"]) == 1
    assert "mobile species Li not in" in capsys.readouterr().err


@pytest.mark.parametrize("ensemble", ["nvt", "npt"])
def test_small_cell_at_its_target_is_not_a_failure(tmp_path, ensemble):
    """48 atoms at 1000 K for 6 ps: T fluctuates by ~12 % per row, the volume by a few %
    under NpT; neither is a runaway, a volume change or a melt."""
    fix = ("nvt temp 1000 1000 0.1" if ensemble == "nvt"
           else "npt temp 1000 1000 0.1 aniso 0 0 1.0")
    run = nacl_dir(tmp_path / ensemble, reps=(3, 2, 1), temperature_K=1000.0, dump_every=20,
                   dump_unwrapped=ensemble == "nvt")
    lmp(run, f"velocity all create 1000 4321 mom yes rot no dist gaussian\nfix 1 all {fix}\n"
             "thermo 10\ndump traj all dcd 20 md.dcd\n"
             + ("dump_modify traj unwrap yes\n" if ensemble == "nvt" else "") + "run 6000\n")
    rows = thermo_rows((run / "log.lammps").read_text())
    assert rows[:, 1].std() / 1000.0 > 0.08              # it does fluctuate
    report = analyze(run)
    assert not report["failed"], report
    assert report["run_end_ps"] == pytest.approx(6.0)


@pytest.fixture(scope="module")
def expanding(tmp_path_factory):
    """A 1728-atom cell started 10 % too small, NpT at 1000 K: it expands by ~45 % in
    volume within 0.7 ps, a crystal throughout."""
    run = nacl_dir(tmp_path_factory.mktemp("npt") / "expanding", reps=(6, 6, 6), a=5.1,
                   temperature_K=1000.0, dump_every=50)
    lmp(run, "velocity all create 1000 12345 mom yes rot no dist gaussian\n"
             "fix 1 all npt temp 1000 1000 0.1 aniso 0 0 1.0\nthermo 50\n"
             "dump traj all dcd 50 md.dcd\nrun 700\n")
    return run


def test_expanding_crystal_is_not_a_melt(expanding):
    """Its sites move with the cell: measured from their raw starting points the Cl atoms
    pass half a Cl-Cl distance (old behaviour: framework_melting at 0.65 ps); from their
    sites they move as the Bragg peak's Debye-Waller factor says, exp(-k^2 <u^2> / 3)."""
    import MDAnalysis as mda

    from ionmd.analysis.framework import non_affine_rms

    u = mda.Universe(str(expanding / "struct.data"), str(expanding / "md.dcd"),
                     atom_style="id type charge x y z", format="LAMMPS")
    cl = u.atoms.types == "1"
    cart, lengths = [], []
    for ts in u.trajectory:
        cart.append(u.atoms.positions[cl])
        lengths.append(ts.dimensions[:3])
    cart, lengths = np.array(cart, float), np.array(lengths, float)
    peak = bragg_peak(cart / lengths[:, None, :], cells=6)
    assert peak.min() > 0.3                               # crystalline in every frame
    assert 1.35 < np.prod(lengths[-1]) / np.prod(lengths[0]) < 1.5
    # the raw displacement, strain included, passes the melt threshold of its lattice
    step = np.diff(cart, axis=0)
    step -= np.round(step / lengths[1:, None, :]) * lengths[1:, None, :]
    raw = np.concatenate([cart[:1], cart[0] + np.cumsum(step, axis=0)])
    assert lindemann_ratio(raw, 5.1 / np.sqrt(2)).max() > 0.5
    # from the sites: the Debye-Waller estimate, k = |(200)| of the current cell
    k = 4 * np.pi / (lengths[1:].mean(axis=1) / 6)
    debye_waller = np.sqrt(-3 * np.log(peak[1:]) / k ** 2)
    boxes = np.array([np.diag(x) for x in lengths])
    rms = non_affine_rms(cart, boxes, np.ones(cl.sum()))[1:]
    assert np.allclose(rms, debye_waller, rtol=0.1), (rms, debye_waller)
    report = analyze(expanding)
    assert not report["failed"], report


def test_flipped_cell_basis_changes_nothing(expanding):
    """The same frames in another basis of the same lattice (b -> b + a, what a LAMMPS box
    flip does) from frame 5 on: the same failure report."""
    from ionmd.analysis.failure import detect_failures
    from ionmd.analysis.run_inputs import run_frames
    from ionmd.analysis.run_spec import load_run_spec

    frames, elements, masses = run_frames(load_run_spec(expanding, {}))
    pos, boxes = frames.positions.copy(), frames.boxes.copy()
    boxes[5:, 1] += boxes[5:, 0]
    frac = np.einsum("tnk,tkl->tnl", pos[5:], np.linalg.inv(boxes[5:]))
    pos[5:] = np.einsum("tnk,tkl->tnl", frac - np.floor(frac), boxes[5:])
    common = dict(steps=frames.steps, timestep_fs=1.0, elements=elements, masses=masses,
                  framework=["Cl"], melt_fraction=0.1)   # low: a detection to compare
    plain = detect_failures(positions=frames.positions, boxes=frames.boxes, **common)
    flipped = detect_failures(positions=pos, boxes=boxes, **common)
    assert plain.to_dict() == flipped.to_dict()


def test_heating_ramp_is_not_a_runaway(tmp_path):
    """The stability protocol's NpT ramp (300 -> 1200 K here): T passes twice the start
    target early; the runaway check follows the ramp (run.json temperature_end_K, the
    planned steps of status.json)."""
    run = nacl_dir(tmp_path / "ramp", temperature_K=300.0, dump_every=50,
                   temperature_end_K=1200.0, ensemble="npt")
    (run / "status.json").write_text(json.dumps({"state": "completed", "step": 3000,
                                                 "planned_steps": 3000}))
    lmp(run, "velocity all create 300 12345 mom yes rot no dist gaussian\n"
             "fix 1 all npt temp 300 1200 0.1 iso 0 0 1.0\nthermo 50\n"
             "dump traj all dcd 50 md.dcd\nrun 3000 start 0 stop 3000\n")
    rows = thermo_rows((run / "log.lammps").read_text())
    assert rows[-20:, 1].mean() > 2.5 * 300                 # well past 2 x the start target
    report = analyze(run)
    assert "temperature_runaway" not in report["modes"], report


# ---------------------------------------------------------------- blow-ups

def test_volume_blow_up_is_flagged_where_the_volume_passes_the_limit(tmp_path):
    """``fix deform`` stretches the cell 18 % in each direction over 1200 steps: V/V0 =
    1.5 at step 964.7, seen first by the thermo (every 30: step 990), then the DCD (50)."""
    run = nacl_dir(tmp_path / "deform", temperature_K=1000.0, dump_every=50)
    length = 3 * A
    lmp(run, "velocity all create 1000 12345 mom yes rot no dist gaussian\n"
             "fix 1 all nvt temp 1000 1000 0.1\n"
             f"fix 2 all deform 1 x final 0 {1.18 * length} y final 0 {1.18 * length} "
             f"z final 0 {1.18 * length} remap x\n"
             "thermo 30\ndump traj all dcd 50 md.dcd\nrun 1200\n")
    crossing = (1.5 ** (1 / 3) - 1) / 0.18 * 1200
    report = analyze(run)
    first = report["first"]
    assert first["mode"] == "volume_change", report
    assert first["step"] == 30 * math.ceil(crossing / 30)
    rows = thermo_rows((run / "log.lammps").read_text())
    assert rows[rows[:, 0] == first["step"]][0, 2] / rows[0, 2] > 1.5 \
        > rows[rows[:, 0] == first["step"] - 30][0, 2] / rows[0, 2]


def test_lost_atoms_are_flagged_after_the_last_row_and_the_rest_is_kept(tmp_path):
    """A 12 fs time step at 5000 K until LAMMPS stops with 'Lost atoms': the failure is at
    the thermo output after the last row it printed; the frames and events before it are
    reported; the full analysis says the run failed instead of crashing."""
    from ionmd.cli import main

    run = nacl_dir(tmp_path / "lost", temperature_K=5000.0, timestep_fs=12.0, dump_every=10)
    proc = lmp(run, "velocity all create 5000 12345 mom yes rot no dist gaussian\n"
                    "fix 1 all nve\nthermo 10\ndump traj all dcd 10 md.dcd\nrun 20000\n",
               timestep_fs=12.0, check=False)
    assert proc.returncode != 0 and "Lost atoms" in proc.stdout
    rows = thermo_rows((run / "log.lammps").read_text())
    report = analyze(run)
    lost = next(e for e in report["events"] if e["mode"] == "lost_atoms")
    assert lost["step"] == rows[-1, 0] + 10
    assert lost["time_ps"] == pytest.approx(lost["step"] * 12e-3)
    assert report["run_end_step"] == lost["step"]
    assert report["first"]["step"] <= lost["step"]
    assert main(["analyze", str(run)]) in (0, None)
    results = json.loads((run / "analysis" / "results.json").read_text())
    assert results["failure"]["failed"] and "lost_atoms" in results["failure"]["modes"]
