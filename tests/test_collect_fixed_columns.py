"""results.csv keeps its columns whatever the runs did: a campaign where no run failed has
the failure columns (empty), as docs/sweeps.md lists them, and the same header as one where
a run failed, so a user's script reads both tables alike."""

from __future__ import annotations

import csv

import pytest

from ionmd.sweep.collect import _aggregate, write_csv

FAILURE = {"failed": True, "modes": ["melted"],
           "first": {"time_ps": 3.0, "temperature_K": 1400.0, "target_temperature_K": 600.0}}


def _table(tmp_path, name, results):
    row = {"structure": "LiCl", "model": "m", "protocol": "nvt", "temperature_K": 600.0,
           **_aggregate(results, len(results))}
    path = tmp_path / f"{name}.csv"
    write_csv([row], path)
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_no_failure_has_the_failure_columns_empty(tmp_path):
    (row,) = _table(tmp_path, "ok", [{"class": "completed", "run": "r0"}])
    assert row["first_failure_ps_mean"] == ""
    assert row["failure_temperature_K_mean"] == ""


def test_same_header_with_and_without_a_failure(tmp_path):
    ok = _table(tmp_path, "ok", [{"class": "completed", "run": "r0"}])
    failed = _table(tmp_path, "failed", [{"class": "failed-physical", "run": "r1",
                                          "failure": FAILURE}])
    assert list(ok[0]) == list(failed[0])
    assert float(failed[0]["first_failure_ps_mean"]) == pytest.approx(3.0)
    assert float(failed[0]["failure_temperature_K_mean"]) == pytest.approx(600.0)
    for column in ("not_resolved", "left_out", "charges_note"):
        assert ok[0][column] == ""
