"""The order in which ``make test``'s pytest-xdist workers take the test files
(tests/xdist_files.py): the units of FIRST before all others, then the most tests first,
by xdist's own file scheduler driven with two stand-in workers, and the same order as
queue_order gives conftest.py (it starts the session's compiles in that order)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from xdist_files import FIRST, ONE_WORKER, make_scheduler, queue_order, scope_of

ROOT = Path(__file__).resolve().parents[1]


class Worker:
    """A stand-in for xdist's WorkerController: records the tests it is sent."""

    def __init__(self, name: str, sent: list):
        self.name, self.sent = name, sent
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False

    def send_runtest_some(self, indexes):
        self.sent.append((self, list(indexes)))

    def shutdown(self):
        self.shutting_down = True


def assigned_units(collection: list[str]) -> list[str]:
    """The units in the order xdist's scheduler (ours) sends them to two workers that
    finish each test at once."""
    config = SimpleNamespace(getvalue=lambda name: ["2*popen"] if name == "tx" else None,
                             option=SimpleNamespace(loadscopereorder=True))
    sched = make_scheduler(config, None)
    sent: list = []
    workers = [Worker(f"gw{i}", sent) for i in range(2)]
    for w in workers:
        sched.add_node(w)
        sched.add_node_collection(w, collection)
    sched.schedule()
    order, done = [], 0
    while done < len(sent):
        worker, indexes = sent[done]
        done += 1
        order.append(scope_of(collection[indexes[0]]))
        for i in indexes:
            sched.mark_test_complete(worker, i)      # may send the next unit
    return order


def test_first_units_go_first_then_the_most_tests():
    slurm = list(ONE_WORKER)
    collection = ([f"tests/test_big.py::t{i}" for i in range(5)]
                  + [f"{slurm[0]}::t1", "tests/test_md_conservation.py::t1",
                     "tests/test_md_conservation.py::t2", "tests/test_one.py::t1",
                     f"{slurm[1]}::t1"]
                  + [f"tests/test_mid.py::t{i}" for i in range(3)])
    expected = ["slurm", "tests/test_md_conservation.py", "tests/test_big.py",
                "tests/test_mid.py", "tests/test_one.py"]
    assert queue_order(collection) == expected
    assert assigned_units(collection) == expected


def test_first_names_existing_files():
    groups = set(ONE_WORKER.values())
    for unit in FIRST:
        assert unit in groups or (ROOT / unit).is_file(), \
            f"{unit} is gone: update FIRST in tests/xdist_files.py"
