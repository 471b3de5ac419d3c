"""``ionmd analyze --failures-only`` beside an earlier full analysis that says the same of
the run's failures: its failure.json goes through the staging folder and the folder's lock
as every other analysis output, so that a disk filling up mid-write leaves the earlier
failure.json whole, and an analysis committing at the same time leaves one verdict, never
failure.json of one analysis beside results.json of another."""

import errno
import json
import pathlib
import shutil
import threading

import pytest

from ionmd.analysis import run_analysis
from ionmd.analysis.result_files import staged_outputs
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.staging import STAGING_PREFIX
from ionmd.cli import main

from test_analysis_failure_keeps_results import POINT_IONS, _files, _run_dir

THRESHOLDS = {"collapse_fraction": 0.01}        # POINT_IONS for analyze_failures


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A run and its full analysis (``RUN/analysis``), made once."""
    run = _run_dir(tmp_path_factory.mktemp("fo") / "T800", 800, seed=8)
    assert main(["analyze", str(run), *POINT_IONS]) == 0
    return run


@pytest.fixture
def out(analysed, tmp_path):
    """A copy of the run's earlier analysis folder (the run itself shared)."""
    return pathlib.Path(shutil.copytree(analysed / "analysis", tmp_path / "an"))


def test_the_same_verdict_keeps_the_full_analysis_and_writes_failure_json(analysed, out):
    before = _files(out)
    results = run_analysis.analyze_failures(load_run_spec(analysed), out, **THRESHOLDS)
    assert "outputs" not in results         # those in the folder are the earlier analysis's
    assert _files(out) == before            # the same verdict, byte for byte
    assert not list(out.glob(STAGING_PREFIX + "*"))


def test_a_failed_write_leaves_the_earlier_failure_json_whole(analysed, out, monkeypatch):
    """Before, failure.json was written in place: a disk full after half of it left a
    truncated failure.json beside the full analysis's results.json."""
    before = _files(out)
    real = pathlib.Path.write_text

    def write_text(self, data, *args, **kwargs):
        if self.name == "failure.json":
            real(self, data[:len(data) // 2], *args, **kwargs)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", write_text)
    with pytest.raises(OSError, match="No space left"):
        run_analysis.analyze_failures(load_run_spec(analysed), out, **THRESHOLDS)
    monkeypatch.undo()
    assert _files(out) == before
    assert not list(out.glob(STAGING_PREFIX + "*"))


def test_an_analysis_committing_meanwhile_leaves_one_verdict(analysed, out, monkeypatch):
    """Another analysis (B) commits a different verdict just after this one found the
    earlier verdict the same (B waits up to 1 s for it). Before, the check took no lock:
    B's results.json ended beside this analysis's failure.json. Now the check is made
    under the commit's lock: B commits after it, and its files are all there."""
    earlier = json.loads((out / "results.json").read_text())
    other = dict(earlier, failure=dict(earlier["failure"], failed=True, note="B's verdict"))
    b_done = threading.Event()

    def analysis_b():
        with staged_outputs(out) as stage:
            (stage / "failure.json").write_text(json.dumps(other["failure"]))
            (stage / "results.json").write_text(json.dumps(other))
        b_done.set()

    real = run_analysis.same_verdict
    b = threading.Thread(target=analysis_b)

    def same_verdict(out_dir, results):
        same = real(out_dir, results)
        if same and not b.is_alive() and not b_done.is_set():
            b.start()
            b_done.wait(1.0)
        return same

    monkeypatch.setattr(run_analysis, "same_verdict", same_verdict)
    run_analysis.analyze_failures(load_run_spec(analysed), out, **THRESHOLDS)
    b.join(10)
    assert b_done.is_set()
    results = json.loads((out / "results.json").read_text())
    failure = json.loads((out / "failure.json").read_text())
    assert results["failure"] == failure == other["failure"]
