"""How ``make test`` spreads the test files over its pytest-xdist workers (``-n 2 --dist
loadfile``): whole files (their module fixtures are made once), the files that share one
global resource kept together on one worker, the work queue in a fixed order that
conftest.py also uses to start the session's compiles in the order they are needed.
"""

from __future__ import annotations

ONE_WORKER = {
    # a SLURM cluster per file (tests/slurm_cluster.py): daemons of one host name and an
    # apt-get install when the packages are missing, which two at once cannot share
    "tests/test_sweep_slurm.py": "slurm",
    "tests/test_sweep_slurm_ended_jobs.py": "slurm",
    "tests/test_slurm_partition_mixed_nodes.py": "slurm",
}


def scope_of(nodeid: str) -> str:
    """The work unit of a test: its file, or the group its file belongs to."""
    path = nodeid.split("::", 1)[0]
    return ONE_WORKER.get(path, path)


def queue_order(nodeids: list[str]) -> list[str]:
    """The work units in the order the workers take them: the largest (most tests) first,
    as xdist's own file scheduling does, so that no long file is left for the end."""
    units: dict[str, int] = {}
    for nodeid in nodeids:
        scope = scope_of(nodeid)
        units[scope] = units.get(scope, 0) + 1
    return sorted(units, key=lambda s: -units[s])


def make_scheduler(config, log):
    """xdist's file scheduling with :func:`scope_of`'s units (its own order of the queue:
    most tests first, which :func:`queue_order` repeats)."""
    from xdist.scheduler import LoadFileScheduling

    class FileGroupScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return FileGroupScheduling(config, log)
