"""A trajectory piece that LAMMPS stopped at its setup, before its first frame, run for
real (rock-salt NaCl, tests/failure_nacl_runs.py): piece 2, resumed by hand from the
restart of step 500, puts an atom far out of the box and LAMMPS stops at its setup for
lost atoms, leaving md.1.dcd empty.

Listing that piece (run.json's list, ``--trajectory``, or the folder's ``*.dcd`` found by
name) refused the whole run before ("trajectory file md.1.dcd is empty"), although piece
1's frames are good. Now the empty piece is left out and named in the results, and the
analysis is that of piece 1 alone; an empty file that is the only one is still refused.
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from failure_nacl_runs import nacl_dir
from ionmd.analysis.run_analysis import analyze_failures
from ionmd.analysis.run_failure import failures_of
from ionmd.analysis.run_inputs import run_frames
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.cli import main
from ionmd.errors import AnalysisError
from test_analysis_resumed_hand_runs import DUMP, RESTART, piece_one, piece_two

PIECES = ["md.0.dcd", "md.1.dcd"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Piece 1 (0 -> 800, restarts every 500) and piece 2 lost at its setup; run.json
    names no trajectory (the folder's DCDs are found by name)."""
    folder = nacl_dir(tmp_path_factory.mktemp("empty_piece") / "nacl", temperature_K=1000.0,
                      dump_every=DUMP, logs=["log.lammps", "log.lammps.1"])
    piece_one(folder)
    piece_two(folder, extra="set atom 1 x 1.0e6\n", append=False, log="log.lammps.1")
    return folder


def _frames(spec):
    return run_frames(spec)[0]


def test_the_run_is_what_the_test_needs(run):
    assert "ERROR: Lost atoms" in (run / "log.lammps.1").read_text()
    assert (run / "md.1.dcd").stat().st_size == 0 < (run / "md.0.dcd").stat().st_size


@pytest.mark.parametrize("listed", [None, PIECES], ids=["found", "listed"])
def test_an_empty_piece_is_left_out_and_named(run, listed):
    alone = load_run_spec(run, {"trajectory": ["md.0.dcd"]})
    spec = load_run_spec(run, {"trajectory": listed})
    assert spec.trajectory == [run / "md.0.dcd"] and spec.skipped_trajectory == [run / "md.1.dcd"]
    frames, reference = _frames(spec), _frames(alone)
    np.testing.assert_array_equal(frames.steps, reference.steps)
    np.testing.assert_array_equal(frames.positions, reference.positions)
    assert frames.steps[0] == 0 and frames.steps[-1] >= RESTART
    assert failures_of(spec).to_dict() == failures_of(alone).to_dict()


def test_analysis_output_names_the_skipped_piece(run, tmp_path):
    spec = load_run_spec(run, {"trajectory": PIECES})
    results = analyze_failures(spec, tmp_path / "with")
    alone = analyze_failures(load_run_spec(run, {"trajectory": ["md.0.dcd"]}), tmp_path / "alone")
    (skipped,) = results.pop("skipped_trajectory")
    assert skipped["file"] == "md.1.dcd" and "empty" in skipped["why"]
    assert results == alone
    assert ((tmp_path / "with" / "failure.json").read_text()
            == (tmp_path / "alone" / "failure.json").read_text())


def test_command_line_with_the_pieces_named(run, tmp_path, capsys):
    folder = tmp_path / "nacl"
    shutil.copytree(run, folder)
    assert main(["analyze", str(folder), "--failures-only", "--trajectory",
                 ",".join(PIECES)]) in (0, None)
    assert "left out md.1.dcd: empty" in capsys.readouterr().out     # said, not only saved
    report = json.loads((folder / "analysis" / "failure.json").read_text())
    lost = next(e for e in report["events"] if e["mode"] == "lost_atoms")
    assert lost["step"] == RESTART


def test_an_empty_only_piece_stays_an_error(run, tmp_path):
    """Piece 2 alone: its run is at 1400 K (run.json's 1000 K is piece 1's, and 9d3ab2f
    refuses a temperature the frames' run contradicts), so run.json says 1400 K here."""
    folder = tmp_path / "nacl"
    shutil.copytree(run, folder)
    record = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**record, "temperature_K": 1400.0}))
    with pytest.raises(AnalysisError, match="md.1.dcd is empty"):
        _frames(load_run_spec(folder, {"trajectory": ["md.1.dcd"]}))


def test_read_frames_leaves_an_empty_piece_out_with_a_warning(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames, _, _ = read_frames(run / "struct.data", [run / p for p in PIECES])
    alone, _, _ = read_frames(run / "struct.data", [run / "md.0.dcd"])
    np.testing.assert_array_equal(frames.positions, alone.positions)
    assert any("md.1.dcd is empty" in str(w.message) for w in caught)
