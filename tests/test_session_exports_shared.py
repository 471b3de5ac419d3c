"""The session's model files under pytest-xdist (``make test`` runs 2 workers): a file that
several processes ask for at once is made by one of them, and the others get its paths
(tests/session_exports.py's made_once); the test files of one global resource share a
worker (tests/xdist_files.py). Reference: the makers' own record of who ran them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from xdist_files import ONE_WORKER, queue_order, scope_of

TESTS = Path(__file__).parent

ASK = """
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from session_exports import made_once

shared = Path({shared!r})

def make():
    with open(shared / "makers.log", "a") as log:
        log.write(f"{{os.getpid()}}\\n")
    time.sleep(1.0)                      # long enough for the other process to ask too
    out = shared / "model.pt"
    out.write_text("weights")
    return out, shared / "checkpoint.pth"

print(json.dumps([str(p) for p in made_once(shared, "model", make)]))
"""


def test_a_file_asked_for_by_two_processes_is_made_once(tmp_path):
    script = ASK.format(tests=str(TESTS), shared=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    answers = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    makers = (tmp_path / "makers.log").read_text().split()
    assert len(makers) == 1, f"made by {len(makers)} processes: {makers}"
    assert answers[0] == answers[1] == [str(tmp_path / "model.pt"), str(tmp_path / "checkpoint.pth")]


def test_a_maker_that_fails_leaves_nothing_and_raises_again(tmp_path):
    """Each caller sees the maker's own error (as a fixture without sharing would)."""
    import pytest

    from session_exports import made_once

    calls = []

    def broken():
        calls.append(1)
        raise ValueError("no such checkpoint")

    for _ in range(2):
        with pytest.raises(ValueError, match="no such checkpoint"):
            made_once(tmp_path, "model", broken)
    assert len(calls) == 2 and not (tmp_path / "model.done").exists()


def test_slurm_files_share_one_worker_and_the_rest_go_by_file():
    slurm = [f"{path}::test_x" for path in ONE_WORKER]
    assert len({scope_of(n) for n in slurm}) == 1
    for path in ONE_WORKER:
        assert (TESTS.parent / path).is_file(), f"{path} is gone: update tests/xdist_files.py"
    assert scope_of("tests/test_a.py::test_x[1]") == scope_of("tests/test_a.py::test_y")
    assert scope_of("tests/test_a.py::test_x") != scope_of("tests/test_b.py::test_x")
    order = queue_order(["tests/test_a.py::t1", "tests/test_b.py::t1", "tests/test_b.py::t2"])
    assert order == ["tests/test_b.py", "tests/test_a.py"]      # most tests first, as xdist
