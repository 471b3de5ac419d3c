"""A run whose ions did not diffuse (its MSD falls over the fit window: D < 0, its interval
clipped to [0, 0]) cannot enter an Arrhenius fit. What a user is told about it names the
quantity with its unit, the run and its temperature, and why (the ions did not diffuse:
too short a run, too low a temperature) with what to do. Before, every command said
``value or interval not positive (-656 [0, 0])``.

The case is real: three LAMMPS dumps (rocksalt LiCl, Li vibrating about its sites at 600 K,
Brownian at 900 and 1200 K) read by ``ionmd analyze``. Reference for the cause: the
time-averaged MSD of the 600 K ions over the fit window, by numpy, falls."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write

from ionmd.cli import main
from ionmd.errors import AnalysisError
from ionmd.sweep.allocate import TemperatureRun, next_step

DT_PS, EVERY, N_FRAMES = 0.01, 10, 401          # 1 fs steps, a frame each 10: 4 ps
FIT = (1.1, 1.9)                                # ps: where a 2 ps vibration's MSD falls
PERIOD_PS, AMPLITUDE = 2.0, 0.4                 # the 600 K ions' vibration (A)
DIFFUSIVE = {900.0: 0.3, 1200.0: 0.8}           # Brownian D, A^2/ps


def _write_run(folder, T: float, li_paths: np.ndarray, atoms, rng) -> None:
    """A run folder ``ionmd analyze`` reads: the data file, a custom dump of unwrapped
    coordinates (Li along ``li_paths``, Cl vibrating about its sites) and run.json."""
    folder.mkdir(parents=True)
    write(folder / "struct.data", atoms, format="lammps-data", specorder=["Li", "Cl"],
          masses=True, atom_style="atomic")
    L = atoms.cell[0, 0]
    li = np.array(atoms.get_chemical_symbols()) == "Li"
    types = np.where(li, 1, 2)
    frames = []
    for k in range(N_FRAMES):
        pos = atoms.positions + 0.03 * rng.standard_normal((len(atoms), 3))
        pos[li] = li_paths[k]
        rows = "".join(f"{i + 1} {t} {x:.5f} {y:.5f} {z:.5f}\n"
                       for i, (t, (x, y, z)) in enumerate(zip(types, pos)))
        frames.append(f"ITEM: TIMESTEP\n{k * EVERY}\nITEM: NUMBER OF ATOMS\n{len(atoms)}\n"
                      f"ITEM: BOX BOUNDS pp pp pp\n0 {L}\n0 {L}\n0 {L}\n"
                      f"ITEM: ATOMS id type xu yu zu\n{rows}")
    (folder / "md.dump").write_text("".join(frames))
    (folder / "run.json").write_text(json.dumps({
        "temperature_K": T, "timestep_fs": DT_PS * 1000 / EVERY, "dump_every": EVERY,
        "discard_ps": 0.0, "mobile_species": ["Li"], "type_map": {"1": "Li", "2": "Cl"},
        "data_file": "struct.data", "trajectory": ["md.dump"], "dump_unwrapped": True,
        "charges": {"Li": 1, "Cl": -1}}))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """The three runs analysed together: (printed output, summary.json, each run's
    results.json by temperature, the 600 K ions' paths)."""
    root = tmp_path_factory.mktemp("frozen") / "licl"
    atoms = bulk("LiCl", "rocksalt", a=5.1, cubic=True).repeat(2)
    sites = atoms.positions[np.array(atoms.get_chemical_symbols()) == "Li"]
    rng = np.random.default_rng(0)
    t = np.arange(N_FRAMES) * DT_PS
    phase = rng.uniform(0, 2 * np.pi, len(sites))
    axis = rng.standard_normal((len(sites), 3))
    axis /= np.linalg.norm(axis, axis=1)[:, None]
    frozen = sites + AMPLITUDE * np.sin(2 * np.pi * t[:, None, None] / PERIOD_PS
                                        + phase[None, :, None]) * axis
    _write_run(root / "T600K", 600.0, frozen, atoms, rng)
    for T, D in DIFFUSIVE.items():
        steps = np.sqrt(2 * D * DT_PS) * rng.standard_normal((N_FRAMES - 1, len(sites), 3))
        path = sites + np.concatenate([np.zeros((1, len(sites), 3)), np.cumsum(steps, 0)])
        _write_run(root / f"T{T:g}K", T, path, atoms, rng)
    out = root / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["analyze", *(str(root / f"T{T}K") for T in (600, 900, 1200)),
                     "-o", str(out), "--fit-start-ps", str(FIT[0]), "--fit-end-ps", str(FIT[1]),
                     "--collapse-fraction", "0.01"]) == 0
    results = {T: json.loads((out / f"T{T}K" / "results.json").read_text())
               for T in (600, 900, 1200)}
    return printed.getvalue(), json.loads((out / "summary.json").read_text()), results, frozen


def _xyz_D(results: dict) -> dict:
    return next(d for d in results["diffusion"] if d["direction"] == "xyz" and d["species"] == "Li")


def test_the_ions_msd_falls_over_the_fit_window(analysed):
    """The reference: numpy's time-averaged MSD of the 600 K ions falls over the fit
    window, and the analysis's D there is negative with its interval clipped to [0, 0]."""
    _, _, results, frozen = analysed
    lags = np.arange(round(FIT[0] / DT_PS), round(FIT[1] / DT_PS) + 1)
    msd = [np.mean(np.sum((frozen[k:] - frozen[:-k]) ** 2, axis=-1)) for k in lags]
    assert np.polyfit(lags * DT_PS, msd, 1)[0] < 0
    d = _xyz_D(results[600])
    assert d["D"] < 0 and d["D_ci95"] == [0.0, 0.0]


def test_the_printed_sigma_line_names_quantity_unit_run_and_temperature(analysed):
    printed, _, results, _ = analysed
    line = next(x for x in printed.splitlines() if "left out:" in x and "sigma at" in x)
    sigma = results[600]["conductivity"]["sigma"]
    assert line.strip().startswith("left out: T600K (the Nernst-Einstein sigma at 600 K = "
                                   f"{sigma:.3g} mS/cm (95 % interval [0, 0]): not positive"), line
    assert "the ions did not diffuse" in line and "run it longer" in line, line


def test_the_d_fit_left_out_names_quantity_unit_and_temperature(analysed):
    _, summary, results, _ = analysed
    (fit,) = summary["arrhenius"].values()
    (left,) = fit["D_Li"]["left_out"]
    assert left["run"].endswith("T600K")
    D = _xyz_D(results[600])["D"]
    assert left["reason"].startswith(f"D of Li at 600 K = {D:.3g} cm^2/s (95 % interval [0, 0])")
    assert "too low for them to hop" in left["reason"]
    assert sorted(run[-6:] for run in fit["D_Li"]["runs"]) == ["/T900K", "T1200K"]


class _Run:
    """A campaign run as the goal gives the allocator its key: with its folder."""

    def __init__(self, path):
        self.path = path


def test_the_allocators_no_fit_names_the_run_left_out(analysed, tmp_path):
    """The goal's allocator with the 600 K and 900 K runs: one usable temperature, no fit;
    before, only 'Arrhenius fit needs D or sigma at >= 2 distinct temperatures'."""
    _, _, results, _ = analysed
    runs = [TemperatureRun(T, 4.0, _xyz_D(results[T])["D"], tuple(_xyz_D(results[T])["D_ci95"]),
                           cost_per_ps=1.0, key=_Run(tmp_path / f"T{T}K"), quantity="D",
                           unit="cm^2/s")
            for T in (600, 900)]
    with pytest.raises(AnalysisError) as exc:
        next_step(runs, step_ps=1.0)
    D = runs[0].D
    assert (f"left out: D of run {tmp_path / 'T600K'} at 600 K = {D:.3g} cm^2/s "
            f"(95 % interval [0, 0]): not positive") in str(exc.value)


def test_collects_row_names_the_replica_left_out(analysed):
    """A temperature's row of ``sweep collect`` (replicas combined): the non-diffusing
    replica's D and sigma are left out and the row says why; before, its D was just
    missing."""
    from ionmd.sweep.collect import _aggregate, flat_row

    _, _, results, _ = analysed
    replica = {**results[600], "run": "T600K/r1", "class": "completed", "temperature_K": 600.0}
    row = _aggregate([replica], 1)
    assert row["D_Li"] is None and row["sigma"] is None
    D, sigma = _xyz_D(results[600])["D"], results[600]["conductivity"]["sigma"]
    assert [why.split(" (95 %")[0] for why in row["left_out"]] == [
        f"T600K/r1: D of Li at 600 K = {D:.3g} cm^2/s",
        f"T600K/r1: the Nernst-Einstein sigma at 600 K = {sigma:.3g} mS/cm"]
    assert flat_row(row)["left_out"].count(" | ") == 1


def test_a_negative_value_within_its_scatter_is_not_said_undiffused():
    """A value below zero whose interval reaches well above it is noise, not ions that did
    not move: 16 Brownian Li (D = 0.1 A^2/ps, diffusing by construction) over 6 ps give a
    positive Nernst-Einstein sigma clear of zero, and their collective sigma (one
    displacement per run, far noisier) may come out below zero: seed 34 gave -6 mS/cm with
    a standard error of 37 before 201e78d's weights (now +74). That draw is set directly,
    its interval the analysis's own rule for a value below zero (``collective_interval``:
    up to 67), as a seed stops giving one whenever the estimator changes. Before,
    its note said the MSD 'does not grow' and 'the ions did not diffuse there'."""
    import synthetic_trajectories as st
    from ionmd.analysis.aggregate import why_left_out
    from ionmd.analysis.conductivity import (Conductivity, collective_interval,
                                             conductivity_from_diffusion)
    from ionmd.analysis.diffusion import diffusion

    rng = np.random.default_rng(34)
    s = st.make(st.brownian_steps(61, 16, [0.1] * 3, 0.1, rng), L=12.0, rng=rng)
    charges, fit = {"Li": 1, "Cl": -2}, dict(fit_start_ps=1.0, fit_end_ps=3.0)
    d = diffusion(s.true, "Li", window_ps=3.0, **fit)
    volume = float(s.true.volumes.mean())
    tracer = conductivity_from_diffusion([d], charges, volume, 900.0)
    assert tracer.sigma_ci95[0] > 0                 # the ions diffuse, clearly
    collective = Conductivity(sigma=-6.0, sigma_ci95=collective_interval(-6.0, 37.2),
                              method="collective", temperature_K=900.0, volume_A3=volume,
                              haven_ratio=1.0)
    lo, hi = collective.sigma_ci95
    assert collective.sigma < 0 and lo == 0 and hi > -collective.sigma
    run = {"temperature_K": 900.0, "diffusion": [d.to_dict()],
           "conductivity_collective": collective.to_dict()}
    why = why_left_out(run, "sigma_collective_T")
    assert why.startswith(f"the collective sigma at 900 K = {collective.sigma:.3g} mS/cm"), why
    assert "did not diffuse" not in why and "does not grow" not in why, why
    assert f"reaches {hi:.3g} mS/cm" in why and "scatter" in why, why


def test_a_value_whose_whole_interval_is_at_zero_still_says_why():
    """The 600 K run (interval [0, 0]: the MSD falls beyond its scatter) keeps its cause."""
    from ionmd.analysis.point_checks import point_problem

    why = point_problem(-7.0e-6, (0.0, 0.0), quantity="D of Li at 600 K", unit="cm^2/s")
    assert "did not diffuse" in why and "too low for them to hop" in why


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_the_note_names_the_intervals_own_level(level):
    """A run stopped by its D-interval rule reports a 99 % interval in D_ci95
    (``interval_level``, as analyze and collect mark it: '(99%: rule stop)'); a note on it
    named it a 95 % interval. One of zero width (a D from one ion's worth of spread)."""
    from ionmd.analysis.aggregate import why_left_out
    from ionmd.analysis.run_records import interval_level_mark

    d = {"direction": "xyz", "species": "Li", "D": 2.0e-6, "D_ci95": [2.0e-6, 2.0e-6],
         "flags": [], "n_ions": 16, **({} if level == 0.95 else {"interval_level": level})}
    why = why_left_out({"temperature_K": 900.0, "diffusion": [d]}, "D_Li")
    assert f"({level:.0%} interval [2e-06, 2e-06])".replace("%", " %") in why, why
    assert (interval_level_mark(d) != "") == (level != 0.95)   # the mark the tables print
    run = TemperatureRun(900.0, 4.0, 2.0e-6, (2.0e-6, 2.0e-6), cost_per_ps=1.0, key="r",
                         level=level, quantity="D of Li", unit="cm^2/s")
    assert f"({level:.0%} interval".replace("%", " %") in run.why_left_out()


def test_the_printed_d_fit_names_the_run_it_left_out(analysed):
    """The D fit's left-out runs were only in summary.json (the sigma fit's were printed):
    now the line under the D fit names them, as the runs table does, and why."""
    printed, summary, _, _ = analysed
    lines = printed.splitlines()
    at = next(i for i, x in enumerate(lines) if " D_Li: Ea = " in x)
    assert lines[at + 1].strip().startswith("left out: T600K (D of Li at 600 K = "), lines[at + 1]
    (fit,) = [f["D_Li"] for f in summary["arrhenius"].values()]
    assert [x["run"].rsplit("/", 1)[-1] for x in fit["left_out"]] == ["T600K"]


def test_sweep_collect_prints_the_replica_a_row_left_out(tmp_path, monkeypatch, capsys):
    """collect's row said its value leaves a replica out only in results.json: the printed
    row is now followed by the replica (its folder under the campaign's output) and why."""
    import argparse

    import ionmd.sweep.collect as collect_module
    from ionmd.cli import sweep as sweep_cli

    output = tmp_path / "runs"
    why = "D of Li at 600 K = -7e-06 cm^2/s (95 % interval [0, 0]): not positive"
    row = {"structure": "s", "model": "m", "temperature_K": 600.0, "replicas_done": 2,
           "replicas_planned": 2, "replicas_failed": 0, "D_Li": None, "sigma": None,
           "left_out": [f"{output}/s/m/conductivity/T600K/r1: {why}"]}
    doc = {"rows": [row], "structures": {}, "runs": [], "not_in_campaign": [],
           "complete": True, "classes": {"completed": 2}}
    monkeypatch.setattr(sweep_cli, "_load", lambda args, check_resources: argparse.Namespace(
        output=output))
    monkeypatch.setattr(collect_module, "collect", lambda *args, **kwargs: doc)
    sweep_cli._cmd_collect(argparse.Namespace(output=None, no_progress=True, campaign="c.toml"))
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("s m 600 K: 2/2 done"))
    assert lines[at + 1] == f"  left out: s/m/conductivity/T600K/r1: {why}"
