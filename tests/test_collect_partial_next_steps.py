"""``sweep collect``'s partial line says, per kind of run left out of its table, what to do:
a failed-error run has ended (collecting again changes nothing: ``submit --retry-failed``
reruns it), a damaged one waits on its files' fix even beside other outstanding runs.
Before, any run not completed, failed-physical or damaged gave "collect again when they
have ended", and damaged runs among others were not asked for. Reference: the classes
``ionmd sweep status`` gives the same folders (its JSON rows)."""

from __future__ import annotations

import json

import pytest

import test_collect_other_runs
from ionmd.cli import main

done = test_collect_other_runs.done         # a finished campaign of two runs (a fixture)


def _partial_line(path, capsys, tmp_path) -> tuple[str, dict]:
    capsys.readouterr()
    main(["sweep", "status", str(path), "--json"])
    classes = [r["class"] for r in json.loads(capsys.readouterr().out)]
    main(["sweep", "collect", str(path), "--no-progress", "-o", str(tmp_path / "c")])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("partial:")]
    assert len(lines) == 1, lines
    return lines[0], {c: classes.count(c) for c in classes}


@pytest.mark.parametrize("second", ["completed", "damaged"])
def test_a_failed_error_run_is_rerun_not_awaited(done, capsys, tmp_path, second):
    path, runs = done
    failed, other = runs
    failed.rundir.set_status("failed", reason="ERROR: Lost atoms")     # no failed_step
    if second == "damaged":
        (other.path / "status.json").write_text('{"state": "compl')
    line, classes = _partial_line(path, capsys, tmp_path)
    assert classes == {"failed-error": 1, second: 1}       # the premise, as status sees it
    assert "when they have ended" not in line, line
    assert ("1 failed-error: ended on an error, rerun them with `ionmd sweep submit "
            "--retry-failed`, then collect again") in line, line
    if second == "damaged":
        assert line.endswith("; 1 damaged: collect again once the damaged runs' files are "
                             "fixed (said below)"), line


def test_damaged_beside_an_interrupted_run_is_asked_for(done, capsys, tmp_path):
    path, runs = done
    interrupted, damaged = runs
    interrupted.rundir.set_status("interrupted", reason="killed")
    (damaged.path / "status.json").write_text('{"state": "compl')
    line, classes = _partial_line(path, capsys, tmp_path)
    assert classes == {"interrupted": 1, "damaged": 1}
    assert ("(1 damaged, 1 interrupted not in the table: see `ionmd sweep status`); "
            "1 interrupted: run them with `ionmd sweep submit`, then collect again; "
            "1 damaged: collect again once the damaged runs' files are fixed (said below)"
            ) in line, line
