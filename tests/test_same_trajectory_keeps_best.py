"""Runs of one trajectory (one seed, structure, model, temperature and dynamics) are counted
once: the run kept is the one with a usable result and the longest analysed, whichever is
listed first; and what makes two runs one trajectory follows what LAMMPS runs.

References: each run's own D and interval (its results.json, analysed alone), the
synthetic walk's lengths, the velocity seed ``RunDir`` gives a folder written before seeds
were recorded, and a ramp's target temperature at a step (T0 + (T1 - T0) step / steps)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.analysis.same_trajectory import same_trajectories
from ionmd.cli import main
from ionmd.protocols.presets import Protocol
from ionmd.protocols.rundir import RunDir

KB = 8.617333262e-5                         # eV/K
EA, L, N_CL, DT_PS = 0.25, 12.0, 8, 0.1     # eV, A, framework atoms, ps between frames
SETTINGS = {"structure_hash": "s1", "model_hash": "m1", "template_hash": "t1",
            "elements": ["Li", "Cl"], "inputs_version": 2}


def d_true(T: float) -> float:
    return 0.5 * np.exp(-EA / KB * (1 / T - 1 / 1000))


def write_run(folder: Path, T: float, seed: int, frames: int, duration_ps: float) -> str:
    """A run folder of the first ``frames`` frames of the Brownian walk of ``seed`` (one
    walk whatever its length: a shorter run is the longer one cut), with its settings.json."""
    folder.mkdir(parents=True)
    steps = st.brownian_steps(1200, 8, [d_true(T)] * 3, DT_PS, np.random.default_rng(seed))
    s = st.make(steps[:frames], L=L, n_framework=N_CL, rng=np.random.default_rng(seed + 1))
    st.write_lammps_files(folder, s, [T] * len(s.true.boxes), specorder=["Li", "Cl"])
    (folder / "run.json").write_text(json.dumps({
        "temperature_K": T, "timestep_fs": 2.0, "dump_every": 50, "discard_ps": 2.0,
        "dump_unwrapped": True, "type_map": {"1": "Li", "2": "Cl"},
        "charges": {"Li": 1, "Cl": -1}, "structure": "LiCl"}))
    (folder / "settings.json").write_text(json.dumps({
        **SETTINGS, "temperature_K": T, "velocity_seed": seed,
        "protocol": {"name": "p", "seed": 12345, "timestep_fs": 2.0,
                     "duration_ps": duration_ps}}))
    return str(folder)


@pytest.fixture(scope="module")
def short_then_long(tmp_path_factory):
    """Campaign A ran 800 K for 300 frames, campaign B the same walk (one seed) for 1200;
    A's 600 and 1000 K runs complete the fit. A's folders are listed first."""
    root = tmp_path_factory.mktemp("keeps_best")
    short = write_run(root / "campA" / "T800", 800.0, 7, 300, 30.0)
    long = write_run(root / "campB" / "T800", 800.0, 7, 1200, 120.0)
    others = [write_run(root / "campA" / f"T{T:g}", T, seed, 300, 30.0)
              for T, seed in ((600.0, 11), (1000.0, 13))]
    out = root / "an"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(["analyze", short, *others, long, "-o", str(out), "--collapse-fraction", "0.01"])
    results = {r["run"]: r for r in (json.loads(f.read_text())
                                     for f in out.rglob("results.json"))}
    return short, long, json.loads((out / "summary.json").read_text()), results


def xyz_li(result: dict) -> dict:
    return next(d for d in result["diffusion"] if d["direction"] == "xyz")


def test_the_longer_run_of_a_trajectory_is_the_one_fitted(short_then_long):
    short, long, summary, results = short_then_long
    # the walk as written: B analysed 4x the time of A, with a narrower interval
    assert results[long]["run_length_ps"] > 3.5 * results[short]["run_length_ps"]
    width = {run: np.diff(xyz_li(results[run])["D_ci95"])[0] for run in (short, long)}
    assert width[long] < 0.6 * width[short]
    fit = summary["arrhenius"]["LiCl"]["D_Li"]
    (point,) = [p for p in fit["points"] if p["temperature_K"] == 800.0]
    assert point["runs"] == [long]
    assert point["value"] == pytest.approx(xyz_li(results[long])["D"], rel=1e-12)
    assert point["ci95"] == pytest.approx(xyz_li(results[long])["D_ci95"], rel=1e-12)
    reasons = {x["run"]: x["reason"] for x in fit["left_out"]}
    assert reasons[short].startswith(f"the same trajectory as {long}: ")
    assert long not in reasons
    (warning,) = [w for w in summary["warnings"] if "repeat" in w]
    assert "1 of its runs repeat" in warning


def settings_folder(root: Path, name: str, *, protocol: dict | None = None, **top) -> str:
    """A run folder holding only settings.json: SETTINGS at 600 K, velocity seed 777,
    protocol 100 ps of 2 fs steps, with ``protocol`` and ``top`` changed (None: removed)."""
    settings = {**SETTINGS, "temperature_K": 600.0, "velocity_seed": 777, "replica": 0,
                "protocol": {"name": "p", "seed": 12345, "timestep_fs": 2.0,
                             "duration_ps": 100.0, **(protocol or {})}}
    settings.update(top)
    settings = {k: v for k, v in settings.items() if v is not None}
    (root / name).mkdir()
    (root / name / "settings.json").write_text(json.dumps(settings))
    return str(root / name)


def result(folder: str, D: float | None = None, half: float = 0.0, length_ps: float = 0.0,
           **extra) -> dict:
    """A run's results: an xyz D of Li with its interval (none: not analysed)."""
    diffusion = [] if D is None else [{"species": "Li", "direction": "xyz", "D": D,
                                       "D_ci95": [D - half, D + half], "flags": [],
                                       "n_ions": 16}]
    return {"run": folder, "temperature_K": 600.0, "diffusion": diffusion,
            "run_length_ps": length_ps, **extra}


def test_a_failed_run_listed_first_leaves_its_finished_twin_in(tmp_path):
    failed = result(settings_folder(tmp_path, "campA"),
                    failure={"failed": True, "modes": ["walltime"]})
    errored = result(settings_folder(tmp_path, "campB"), analysis_error="unreadable DCD")
    finished = result(settings_folder(tmp_path, "campC"), 1e-5, 2e-6, 98.0)
    repeats = same_trajectories([failed, errored, finished])
    assert set(repeats) == {failed["run"], errored["run"]}
    for kept, _, why_kept in repeats.values():
        assert kept == finished["run"]
        assert "usable result" in why_kept


def test_of_equal_usable_runs_the_longest_is_kept_whatever_its_interval(tmp_path):
    """The longer run holds the shorter one: its estimate is kept even where its interval
    came out a little wider (picking the narrowest by chance would bias the error low)."""
    long = result(settings_folder(tmp_path, "long"), 1.0e-5, 2.1e-6, 400.0)
    short = result(settings_folder(tmp_path, "short"), 1.1e-5, 2.0e-6, 100.0)
    alike = result(settings_folder(tmp_path, "alike"), 1.0e-5, 1.0e-6, 100.0)
    repeats = same_trajectories([short, alike, long])
    assert {run: kept for run, (kept, *_) in repeats.items()} == {
        short["run"]: long["run"], alike["run"]: long["run"]}
    assert "400 ps analysed, this run 100 ps" in repeats[short["run"]][2]
    # of equal lengths, the narrower interval
    repeats = same_trajectories([short, alike])
    assert {run: kept for run, (kept, *_) in repeats.items()} == {short["run"]: alike["run"]}


def ramp_target(T0: float, T1: float, duration_ps: float, timestep_fs: float,
                step: int) -> float:
    """The thermostat's target at ``step`` of a ramp over the run (``run N start 0 stop N``)."""
    return T0 + (T1 - T0) * step / round(duration_ps * 1000 / timestep_fs)


def test_ramped_runs_of_other_lengths_are_other_trajectories(tmp_path):
    ramp = {"temperature_end": 2100.0}
    runs = [result(settings_folder(tmp_path, name, protocol={**ramp, **prot}))
            for name, prot in (("r50", {"duration_ps": 50.0}), ("r100", {}),
                               ("r100_discard", {"discard_ps": 20.0}))]
    # the targets part at once: 50 ps and 100 ps ramps differ at the first step
    assert ramp_target(600, 2100, 50, 2, 1) != ramp_target(600, 2100, 100, 2, 1)
    repeats = same_trajectories(runs)
    assert {run: kept for run, (kept, *_) in repeats.items()} == {
        runs[2]["run"]: runs[1]["run"]}
    pressure = [result(settings_folder(tmp_path, f"p{d:g}", protocol={
        "pressure_end_bar": 5e4, "duration_ps": d})) for d in (50.0, 100.0)]
    assert same_trajectories(pressure) == {}
    # long_below_K: the 600 K run's length is long_duration_ps, duration_ps is not its own
    below = [result(settings_folder(tmp_path, f"long{d:g}", protocol={
        **ramp, "long_below_K": 700.0, "long_duration_ps": 200.0, "duration_ps": d}))
        for d in (50.0, 100.0)]
    assert list(same_trajectories(below)) == [below[1]["run"]]


def test_halt_settings_stop_a_run_but_do_not_part_its_trajectory(tmp_path):
    plain = result(settings_folder(tmp_path, "plain"), 1e-5, 2e-6, 100.0)
    halted = result(settings_folder(tmp_path, "halted", protocol={
        "halt_volume_change": 0.5, "halt_check_every": 20}), 1e-5, 3e-6, 40.0)
    assert {run: kept for run, (kept, *_) in same_trajectories([halted, plain]).items()} == {
        halted["run"]: plain["run"]}


def test_old_runs_without_a_recorded_seed_match_by_seed_plus_replica(tmp_path):
    """Folders written before velocity seeds were recorded ran with seed + replica at every
    temperature (RunDir.velocity_seed of such a folder)."""
    cases = {name: (seed, replica) for name, seed, replica in (
        ("s1r1", 1, 1), ("s2r0", 2, 0), ("s1r0", 1, 0))}
    runs = {name: result(settings_folder(tmp_path, name, protocol={"seed": seed},
                                         velocity_seed=None, replica=replica))
            for name, (seed, replica) in cases.items()}
    drawn = {name: RunDir(Path(runs[name]["run"]), Protocol(name="p", source="s", seed=seed),
                          600.0, replica, Path("model.pt"), "LiCl", ["Li", "Cl"]).velocity_seed
             for name, (seed, replica) in cases.items()}
    assert drawn["s1r1"] == drawn["s2r0"] != drawn["s1r0"]
    repeats = same_trajectories(list(runs.values()))
    assert {run: kept for run, (kept, *_) in repeats.items()} == {
        runs["s2r0"]["run"]: runs["s1r1"]["run"]}


def test_input_version_and_template_path(tmp_path):
    """A folder written before input versions (version 1: velocities drawn with rot yes)
    starts otherwise than a version-2 one of the same seed; one template file (one hash)
    at two paths is one input."""
    v2 = result(settings_folder(tmp_path, "v2"))
    v1 = result(settings_folder(tmp_path, "v1", inputs_version=None))
    assert same_trajectories([v2, v1]) == {}
    here = result(settings_folder(tmp_path, "here", protocol={"template": "/a/md.lmp"}))
    there = result(settings_folder(tmp_path, "there", protocol={"template": "/b/md.lmp"}))
    assert list(same_trajectories([here, there])) == [there["run"]]
    other = result(settings_folder(tmp_path, "other", protocol={"template": "/b/md.lmp"},
                                   template_hash="t2"))
    assert same_trajectories([here, other]) == {}
