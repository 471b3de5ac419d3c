"""Every JSON file ``ionmd analyze`` writes is strict JSON (jq, JavaScript's JSON.parse and
many libraries refuse ``Infinity``/``NaN``, which ``json.dumps`` wrote): a collective sigma
whose relative error r is beyond ~13.9 got an upper end of inf (the scaled chi-square's
2.5 % quantile underflows to 0 at k = 2/r^2) and results.json held ``Infinity``; between
4.9 (the lower end's turn) and 13.9 the upper end was finite but 1e37-1e303 times sigma,
written and printed as if it bounded anything. Both are now null, said by
``sigma_ci95_unbounded``/``sigma_ci95_note``, printed ``[lo, unbounded]``, and left out of
the Arrhenius fit as not resolved."""

import json
import math

import numpy as np
import pytest
from scipy.stats import chi2

import synthetic_trajectories as st
from ionmd import strict_json
from ionmd.analysis.conductivity import collective_interval, lower_end_turn
from ionmd.cli import main

# Li that only vibrate (0.3 A) about fixed sites: the charge MSD is flat, its slope (the
# collective sigma) noise about zero; these seeds give a positive sigma with r = se/sigma
# 26.7 (beyond ~13.9: an upper end of inf before) and 9.2 (finite, ~1e130 sigma, before)
UNRESOLVED = {700: 59, 900: 6}
RESOLVED = (600, 1000)


def strict_loads(text: str):
    """JSON parsed as strict readers do: NaN, Infinity, -Infinity refused."""
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """Two diffusing runs (600, 1000 K) and two whose Li only vibrate (700, 900 K),
    analysed together with --collective: the output folder and what was printed."""
    import contextlib
    import io

    base = tmp_path_factory.mktemp("strict_json")
    for T in RESOLVED:
        st.arrhenius_run(base / f"T{T}", T, seed=T)
    for T, seed in UNRESOLVED.items():
        rng = np.random.default_rng(seed)
        steps = np.diff(0.3 * rng.standard_normal((300, 16, 3)), axis=0)
        st.write_run_folder(base / f"T{T}", st.make(steps, L=12.0, rng=rng), T)
    out = base / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        rc = main(["analyze", *[str(base / f"T{T}") for T in sorted([*RESOLVED, *UNRESOLVED])],
                   "-o", str(out), "--collective", "--collapse-fraction", "0.01",
                   "--mcmc-samples", "20"])
    assert rc == 0
    return out, printed.getvalue()


def test_every_json_file_is_strict_and_the_unbounded_ends_are_null(analysed):
    out, printed = analysed
    files = sorted(out.rglob("*.json"))
    assert {f.name for f in files} >= {"results.json", "failure.json", "summary.json"}
    docs = {f.relative_to(out).as_posix(): strict_loads(f.read_text()) for f in files}
    for T in UNRESOLVED:
        c = docs[f"T{T}/results.json"]["conductivity_collective"]
        lo, hi = c["sigma_ci95"]
        assert c["sigma"] > 0 and 0 < lo < c["sigma"]
        assert hi is None and c["sigma_ci95_unbounded"] is True
        assert "no upper end" in c["sigma_ci95_note"]
        assert f"sigma_collective = {c['sigma']:.3g} mS/cm [{lo:.3g}, unbounded]" in printed
    for T in RESOLVED:                  # resolved sigmas keep their finite upper end
        c = docs[f"T{T}/results.json"]["conductivity_collective"]
        assert c["sigma_ci95"][1] > c["sigma"] and "sigma_ci95_unbounded" not in c
    fit = docs["summary.json"]["arrhenius"]["synthetic"]["sigma_collective_T"]
    assert [p["temperature_K"] for p in fit["points"]] == [float(T) for T in RESOLVED]
    assert math.isfinite(fit["Ea_eV"]) and fit["Ea_eV"] > 0


def test_the_relative_errors_are_those_the_limit_is_about(analysed):
    """The premise, independently of the writer: both runs' lower ends are held at the
    turn (r beyond 4.9), and scipy's scaled chi-square upper end at their r (9.2, 26.7) is
    a finite 1e100+ sigma and inf (its 2.5 % quantile underflows to 0)."""
    out, _ = analysed
    turn = lower_end_turn(0.95)
    held = collective_interval(1.0, turn)[0]
    for T in UNRESOLVED:
        c = strict_loads((out / f"T{T}" / "results.json").read_text())["conductivity_collective"]
        assert c["sigma_ci95"][0] / c["sigma"] == pytest.approx(held, rel=1e-6)
    for r, finite in ((9.2, True), (26.7, False)):
        top = chi2.ppf(0.025, 2 / r ** 2)
        assert (top > 0) == finite
        if finite:
            assert (2 / r ** 2) / top > 1e100


def test_writer_refuses_a_stray_nan_naming_its_key_and_keeps_the_earlier_file(tmp_path):
    path = tmp_path / "results.json"
    strict_json.write(path, {"a": 1})
    with pytest.raises(strict_json.NonFiniteJSONError, match=r"fit\.points\[1\]\.value = nan"):
        strict_json.write(path, {"fit": {"points": [{"value": 1.0}, {"value": float("nan")}]}})
    assert strict_loads(path.read_text()) == {"a": 1}
    with pytest.raises(ValueError, match="inf"):
        strict_json.dumps([np.float64(np.inf)])


def test_the_encodings_round_trip_through_a_strict_parser():
    doc = {"ci95": [0.1, strict_json.unbounded_to_json(np.inf)],
           "failure": strict_json.nonfinite_to_null({"events": [{"value": float("nan")},
                                                                {"value": -np.inf}, 2.0]})}
    back = strict_loads(strict_json.dumps(doc))
    assert back == {"ci95": [0.1, None], "failure": {"events": [{"value": None},
                                                              {"value": None}, 2.0]}}
    assert [strict_json.unbounded_from_json(v) for v in back["ci95"]] == [0.1, np.inf]
    with pytest.raises(ValueError):
        strict_loads('{"x": Infinity}')


def test_a_failure_report_with_nan_thermo_is_written_strict_and_read_as_the_same_verdict(
        tmp_path):
    """A diverging model's thermo (Temp nan at the failure) in the report: json.dumps wrote
    ``NaN`` into failure.json and results.json; null now, and the verdict read back from
    the file is the same one (an unchanged --failures-only run keeps the earlier files)."""
    from ionmd.analysis.result_files import same_verdict, write_outputs

    failure = {"failed": True, "modes": ["nan_energy"],
               "first": {"mode": "nan_energy", "step": 300, "temperature_K": float("nan")},
               "events": [{"mode": "nan_energy", "step": 300, "value": float("nan")}],
               "run_end_step": 300, "run_end_ps": 0.6}
    results = {"run": str(tmp_path / "run"), "failure": failure, "diffusion": []}
    write_outputs(tmp_path, dict(results, failure=dict(failure)))
    written = strict_loads((tmp_path / "failure.json").read_text())
    assert written["first"]["temperature_K"] is None and written["events"][0]["value"] is None
    assert strict_loads((tmp_path / "results.json").read_text())["failure"] == written
    assert same_verdict(tmp_path, dict(results, failure=dict(failure)))


def test_an_older_results_json_with_nan_is_the_same_verdict(tmp_path):
    """results.json of an older release holds ``NaN`` (json.dumps) for a thermo value the
    model printed as nan: NaN != NaN, so its verdict never matched the same failure again
    and --failures-only cleared the earlier full analysis (review of 3a3c905)."""
    import json

    from ionmd.analysis.result_files import same_verdict

    failure = {"failed": True, "modes": ["nan_energy"],
               "first": {"mode": "nan_energy", "step": 300, "temperature_K": float("nan")}}
    results = {"run": str(tmp_path / "run"), "failure": failure}
    (tmp_path / "results.json").write_text(json.dumps(results))     # NaN, as before
    assert "NaN" in (tmp_path / "results.json").read_text()
    assert same_verdict(tmp_path, results)
    other = dict(results, failure=dict(failure, modes=["lost_atoms"]))
    assert not same_verdict(tmp_path, other)
