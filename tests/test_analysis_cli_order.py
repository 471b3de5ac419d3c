"""``ionmd analyze`` prints and records runs and flags in one order: runs by temperature
(then name) whatever the command line's order, failure modes in the order they happened,
D flags as found; a run.json of a schema this ionmd does not know is refused, naming it."""

import json

import pytest

from ionmd.analysis.failure import FailureEvent, FailureReport
from ionmd.analysis.run_records import run_record, runs_table
from ionmd.cli import main
from test_analysis_cli import POINT_IONS, _run_dir


def test_runs_table_and_summary_follow_temperature(tmp_path, capsys):
    temps = (1000, 600, 800)                      # as given on the command line
    for T in temps:
        _run_dir(tmp_path / f"T{T}", T, seed=T)
    rc = main(["analyze", *[str(tmp_path / f"T{T}") for T in temps], "-o", str(tmp_path / "out"),
               "--failures-only", *POINT_IONS])
    assert rc in (0, None)
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("run "))
    printed = [ln.split()[0] for ln in lines[header + 1:header + 4]]
    assert printed == [f"T{T}" for T in sorted(temps)]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [r["temperature_K"] for r in summary["runs"]] == sorted(temps)


def test_same_temperature_runs_are_ordered_by_name():
    recs = [{"run": f"x/{name}", "temperature_K": 600.0, "mobile": []} for name in ("r2", "r0", "r1")]
    recs.append({"run": "x/r9", "temperature_K": None, "mobile": []})
    rows = [ln.split()[0] for ln in runs_table(recs)[1:]]
    assert rows == ["r0", "r1", "r2", "r9"]


def test_failure_modes_are_listed_in_the_order_they_happened():
    events = [FailureEvent("volume_change", 100, 0.2, None, ""),
              FailureEvent("collapsed_distance", 500, 1.0, None, ""),
              FailureEvent("volume_change", 700, 1.4, None, "")]
    report = FailureReport(events=events[::-1])
    assert report.modes == ["volume_change", "collapsed_distance"]
    assert report.to_dict()["modes"] == report.modes


def test_run_record_flags_are_the_d_lines_order():
    d = {"species": "Li", "direction": "xyz", "D": 1e-5, "D_ci95": [0.9e-5, 1.1e-5],
         "hops_per_ion": 0.5, "n_ions": 8, "flags": ["too_few_hops", "not_linear"]}
    rec = run_record({"run": "a", "temperature_K": 600.0, "diffusion": [d]})
    assert rec["flags"] == d["flags"]


@pytest.mark.parametrize("schema, why", [("ionmd-run/2", "newer ionmd"),
                                         ("lammps-run/1", "not an ionmd run")])
def test_unknown_run_json_schema_is_refused_naming_it(tmp_path, capsys, schema, why):
    _run_dir(tmp_path / "T600", 600, seed=1)
    spec_file = tmp_path / "T600" / "run.json"
    meta = json.loads(spec_file.read_text())
    spec_file.write_text(json.dumps({**meta, "schema": schema}))
    assert main(["analyze", str(tmp_path / "T600"), "--failures-only", *POINT_IONS]) not in (0, None)
    msg = capsys.readouterr().err
    assert str(spec_file) in msg and repr(schema) in msg and "'ionmd-run/1'" in msg and why in msg
    assert not (tmp_path / "T600" / "analysis").exists()        # nothing written
