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

FIRST = (
    # mostly waiting on SLURM's daemons (164 s wall, 32 s CPU alone on a quiet machine,
    # 2026-12-08): taken first, its worker's idle core goes to the session's compiles
    # (tests/session_exports.py, ~10 minutes of one core), which run from the start;
    # later in the run that core would stand idle
    "slurm",
    # files of one or two tests that take 10-35 s each (their test count put them at the
    # end of the queue, where the worker that took the last one ran on alone)
    "tests/test_md_conservation.py",
    "tests/test_sweep_lock_step_slurm.py",
    "tests/test_sweep_submit_signals.py",
    "tests/test_sweep_locks.py",
    "tests/test_structures_published_sse_ewald.py",
    "tests/test_mace_export_layouts.py",
    "tests/test_charges_cyanide_not_carbide.py",
    "tests/test_sweep_collect_real_campaign.py",
    "tests/test_collective_bias.py",
)
"""Work units taken before all others, in this order."""


def scope_of(nodeid: str) -> str:
    """The work unit of a test: its file, or the group its file belongs to."""
    path = nodeid.split("::", 1)[0]
    return ONE_WORKER.get(path, path)


def ordered_units(units: list[str], size) -> list[str]:
    """``units`` in the order the workers take them: :data:`FIRST`, then the largest
    (``size(unit)`` tests) first, as xdist's own file scheduling orders them, so that no
    long file is left for the end; ties keep the order of ``units`` (collection)."""
    rank = {unit: i for i, unit in enumerate(FIRST)}
    return sorted(units, key=lambda u: (rank.get(u, len(FIRST)), -size(u)))


def queue_order(nodeids: list[str]) -> list[str]:
    """The work units of ``nodeids`` in the order the workers take them."""
    units: dict[str, int] = {}
    for nodeid in nodeids:
        scope = scope_of(nodeid)
        units[scope] = units.get(scope, 0) + 1
    return ordered_units(list(units), units.get)


def make_scheduler(config, log):
    """xdist's file scheduling with :func:`scope_of`'s units in :func:`ordered_units`'s
    order (xdist's own: most tests first)."""
    from xdist.scheduler import LoadFileScheduling

    class FileGroupScheduling(LoadFileScheduling):
        _ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

        def _assign_work_unit(self, node) -> None:
            # the queue is complete at the first assignment (schedule() fills it, most
            # tests first, then assigns): put it in our order once
            if not self._ordered:
                self._ordered = True
                queue = self.workqueue
                for unit in ordered_units(list(queue), lambda u: len(queue[u])):
                    queue.move_to_end(unit)
            super()._assign_work_unit(node)

    return FileGroupScheduling(config, log)
