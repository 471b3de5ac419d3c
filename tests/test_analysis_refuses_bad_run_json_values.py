"""A run.json ``discard_ps`` or ``mobile_species`` the analysis cannot use was refused only
at a launch (protocols.run_json_edits); an edit made after the run (the usual re-analysis)
never meets one, and the analysis read ``float(meta["discard_ps"])``: ``true`` as 1.0 ps,
``-1`` as no discard, ``"20ps"`` and ``[0.2]`` a ValueError/TypeError traceback, and
``list("Li")`` as the species L and i. ``ionmd analyze`` now refuses each by the launch's
rule (analysis.run_json_values), in one line naming the file, key and value, and writes
nothing; a quoted number is refused in both places alike."""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.protocols import execute
from lj_run_copies import edited_copy, folder_files, lj_run
from test_run_json_edits_checked import NOT_LAMMPS, _edit, _runs


@pytest.fixture(scope="module")
def lammps_run(tmp_path_factory):
    return lj_run(tmp_path_factory)


BAD_VALUES = [
    ("discard_ps", True, "is not a number of ps"),      # was 1.0 ps, silently
    ("discard_ps", -1, "is negative"),                   # was no discard, silently
    ("discard_ps", "20ps", "is not a number of ps"),     # was a ValueError traceback
    ("discard_ps", [0.2], "is not a number of ps"),      # was a TypeError traceback
    ("discard_ps", "0.2", "is not a number of ps"),      # was 0.2; a launch refuses it
    ("mobile_species", "Li", "is not a list of element symbols"),   # was L and i
    ("mobile_species", [], "is not a list of element symbols"),     # was no species at all
    ("mobile_species", [3], "is not a list of element symbols"),
]


@pytest.mark.parametrize("key, value, why", BAD_VALUES)
def test_analyze_refuses_a_value_it_cannot_use_in_one_line(lammps_run, tmp_path, capsys,
                                                           key, value, why):
    run = edited_copy(lammps_run, tmp_path / "run", {key: value})
    before = folder_files(run)
    rc = main(["analyze", str(run)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"ionmd: error: {run / 'run.json'}: "
                          f'"{key}": {json.dumps(value)} {why}; write '), err
    assert folder_files(run) == before           # no analysis/ folder, run.json as it was


def test_the_tiny_run_is_analysable_with_good_values(lammps_run, tmp_path, capsys):
    """The refusals above are of the values: the same folder with usable ones is analysed,
    its discard taken as given (0.1 ps)."""
    run = edited_copy(lammps_run, tmp_path / "run")
    assert main(["analyze", str(run), "--collapse-fraction", "0.01"]) in (0, None)
    results = json.loads((run / "analysis" / "results.json").read_text())
    assert results["discard_ps"] == 0.1 and results["n_atoms"] == 108


def test_a_negative_discard_on_the_command_line_is_refused(lammps_run, tmp_path, capsys):
    run = edited_copy(lammps_run, tmp_path / "run")
    assert main(["analyze", str(run), "--discard-ps=-1"]) == 1
    assert "--discard-ps -1.0 is negative" in capsys.readouterr().err
    assert not (run / "analysis").exists()


def test_a_quoted_dump_unwrapped_flag_is_refused(lammps_run, tmp_path, capsys):
    """``"dump_unwrapped": "false"`` was bool("false"), True: wrapped files read as unwrapped."""
    run = edited_copy(lammps_run, tmp_path / "run", {"dump_unwrapped": "false"})
    assert main(["analyze", str(run)]) == 1
    err = capsys.readouterr().err
    assert "'dump_unwrapped' must be true or false (JSON, no quotes), got \"false\"" in err
    assert not (run / "analysis").exists()


@pytest.mark.parametrize("value", ["0.2", True, float("nan")])
def test_a_launch_and_the_analysis_refuse_a_discard_alike(tmp_path, morse, lammps_run, value):
    """A quoted number (and true, NaN) is refused at a launch as by the analysis: one rule."""
    (rd,) = _runs(tmp_path, morse)
    _edit(rd, discard_ps=value)
    with pytest.raises(IonmdError, match="is not a number of ps"):
        execute(rd, launcher=NOT_LAMMPS)
    run = edited_copy(lammps_run, tmp_path / "run", {"discard_ps": value})
    assert main(["analyze", str(run)]) == 1
