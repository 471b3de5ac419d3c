"""A planned run's ``settings.json`` cut short (an interrupted copy, a hand edit) makes
``ionmd sweep collect`` and ``status`` exit non-zero with a message naming the file and
how to go on, the file kept as it was; before, ``collect`` ended in json.loads'
JSONDecodeError traceback (collect_folders -> run_settings). Since the run is one damaged
run, the others are shown and collected (tests/test_sweep_damaged_run.py). Reference: the
file as written."""

from __future__ import annotations


import pytest

import test_collect_other_runs
from ionmd.cli import main

done = test_collect_other_runs.done         # a finished campaign of two runs (a fixture)

CUT = '{"protocol": '


@pytest.mark.parametrize("command", ["collect", "status"])
def test_a_damaged_settings_file_is_named(done, command, capsys):
    path, runs = done
    damaged = runs[0].path / "settings.json"
    damaged.write_text(CUT)
    capsys.readouterr()
    code = main(["sweep", command, str(path), *(["--no-progress"] if command == "collect"
                                                 else [])])
    err = capsys.readouterr().err
    assert code != 0
    assert f"{damaged} is not JSON" in err, err
    assert "restore it from a copy of the run folder" in err
    assert damaged.read_text() == CUT
