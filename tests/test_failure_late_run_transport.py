"""A run that fails late (here: loses an atom at 80 % of its length) gets no transport
results of the run, but those of its frames before the failure, marked (``before_failure``
with the failure's step) and kept out of the fits. Checked on a real LAMMPS run of
superionic NaCl (tests/failure_nacl_runs.py: Na diffusing through a Cl framework held by
springs) against an MSD computed here from LAMMPS's image flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

from failure_nacl_runs import lmp, nacl_dir, read_custom
from ionmd.cli import main

KICK, FIT_START_PS, DISCARD_PS = 3201, 0.2, 0.2


@pytest.fixture(scope="module")
def late_failure(tmp_path_factory):
    """4 ps at 4000 K, thermo every 10, frames every 50; at step KICK one Na is pushed
    further than a box length per step: LAMMPS stops at the next thermo row (3210)."""
    run = nacl_dir(tmp_path_factory.mktemp("late") / "late", temperature_K=4000.0,
                   dump_every=50, delete=list(range(1, 40, 4)), dump_unwrapped=True,
                   discard_ps=DISCARD_PS)
    proc = lmp(run, "velocity all create 4000 12345 mom yes rot no dist gaussian\n"
                    "group cl type 1\nfix tether cl spring/self 20.0\n"
                    "fix 1 all nvt temp 4000 4000 0.1\nthermo 10\n"
                    "dump traj all dcd 50 md.dcd\ndump_modify traj unwrap yes\n"
                    "dump ref all custom 50 ref.dump id type x y z ix iy iz\n"
                    "dump_modify ref sort id\n"
                    f"variable kick equal (step>={KICK})*1.0e5\ngroup one id 2\n"
                    "fix kick one addforce v_kick 0.0 0.0\nrun 4000\n", check=False)
    assert "ERROR: Lost atoms" in proc.stdout
    assert main(["analyze", str(run), "--fit-start-ps", str(FIT_START_PS),
                 "--window-ps", "1", "--mcmc-samples", "20"]) in (0, None)
    return run, json.loads((run / "analysis" / "results.json").read_text())


def own_diffusion(run) -> float:
    """D of Na (cm^2/s) of the reference dump's frames before the failure, unwrapped here by
    LAMMPS's image flags, the first DISCARD_PS dropped and the Cl centre-of-mass drift
    removed here; the D fit itself is ionmd's (tested on its own elsewhere): what is
    checked is which frames, and how they are prepared."""
    from ionmd.analysis.diffusion import diffusion
    from ionmd.analysis.trajectory import Trajectory

    steps, lengths, types, pos = read_custom([run / "ref.dump"])
    keep = (steps >= DISCARD_PS * 1000) & (steps < KICK)
    pos, steps, lengths = pos[keep], steps[keep], lengths[keep]
    pos = pos - (pos[:, types == 1].mean(axis=1) - pos[0, types == 1].mean(axis=0))[:, None]
    elements = np.where(types == 2, "Na", "Cl")
    masses = np.where(types == 2, 22.99, 35.45)
    traj = Trajectory(pos, np.array([np.diag(x) for x in lengths]), steps, elements, masses, 1.0)
    return diffusion(traj, "Na", "xyz", fit_start_ps=FIT_START_PS, window_ps=1.0).D


def test_no_transport_of_the_failed_run(late_failure):
    run, res = late_failure
    assert res["failure"]["first"]["mode"] == "lost_atoms"
    assert res["failure"]["first"]["step"] == 3210
    assert res["diffusion"] == [] and "conductivity" not in res
    assert "before_failure" in res["note"] and "left out" in res["note"]
    assert res["run_record"]["failed"]


def test_transport_before_the_failure_matches_an_msd_of_those_frames(late_failure):
    run, res = late_failure
    before = res["before_failure"]
    assert (before["failure_mode"], before["failure_step"]) == ("lost_atoms", 3210)
    assert before["first_step"] == 200 and before["last_step"] == 3200
    (na,) = [d for d in before["diffusion"] if d["species"] == "Na"]
    reference = own_diffusion(run)
    assert reference > 1e-5                                 # Na does diffuse
    lo, hi = na["D_ci95"]
    assert na["D"] == pytest.approx(reference, rel=1e-6)
    assert lo < na["D"] < hi
    assert before["conductivity"]["sigma"] > 0
    assert (run / "analysis" / "diffusion_before_failure.csv").is_file()
    assert not (run / "analysis" / "diffusion.csv").exists()


def test_a_failure_too_early_for_transport_says_so(late_failure, tmp_path):
    """The same frames with the failure moved to step 250 (a --discard of 0.2 ps leaves one
    frame before it): an error saying why, nothing made up."""
    from ionmd.analysis.run_analysis import before_failure
    from ionmd.analysis.run_inputs import run_frames
    from ionmd.analysis.failure import FailureEvent
    from ionmd.analysis.run_spec import load_run_spec

    run, _ = late_failure
    spec = load_run_spec(run, {})
    frames, elements, masses = run_frames(spec)
    out = before_failure(spec, frames, elements, masses,
                         FailureEvent("framework_melting", 250, 0.25, 4000.0, ""), tmp_path,
                         directions=("xyz",), fit_start_ps=FIT_START_PS, fit_end_ps=None,
                         window_ps=1.0, haven_ratio=1.0, collective=False, seed=0,
                         hop_length=1.5, min_hops=1.0)
    assert out["failure_step"] == 250 and "diffusion" not in out
    assert out["error"].startswith("no transport before the failure")


def test_analyze_prints_it_apart(late_failure, tmp_path, capsys):
    run, res = late_failure
    capsys.readouterr()
    assert main(["analyze", str(run), "-o", str(tmp_path / "again"), "--fit-start-ps",
                 str(FIT_START_PS), "--window-ps", "1", "--mcmc-samples", "20"]) in (0, None)
    printed = capsys.readouterr().out
    assert "FAILED (lost_atoms" in printed and "target 4000.0 K)" in printed
    assert res["failure"]["first"]["target_temperature_K"] == 4000.0
    assert "before the failure (steps 200-3200; in no fit):" in printed
    d = res["before_failure"]["diffusion"][0]["D"]
    assert f"    D(Na, xyz) = {d:.3g} cm2/s" in printed
