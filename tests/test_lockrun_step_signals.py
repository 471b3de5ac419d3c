"""Every rank of an ``srun ... lockrun.py --step LOCK lmp`` step starts LAMMPS with SIGPIPE
and SIGXFSZ at their defaults, as a shell would start it (Python ignores both at start-up
and an ignored signal stays ignored across ``exec``): a rank over the file-size limit is
then killed by SIGXFSZ instead of writing on with truncated files. Before, only the rank
that takes the lock (``SLURM_PROCID`` 0) had them restored; the others exec'd at once.
Reference: the kernel's own mask of ignored signals (``SigIgn`` in /proc/self/status).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ionmd.sweep.worker import LOCKRUN


def _ignored(status_text: str) -> set[int]:
    mask = int(next(line.split()[1] for line in status_text.splitlines()
                    if line.startswith("SigIgn:")), 16)
    return {sig for sig in range(1, 64) if mask >> (sig - 1) & 1}


@pytest.mark.parametrize("procid", ["0", "1", "3"])
def test_each_rank_starts_with_sigpipe_and_sigxfsz_at_default(tmp_path, procid):
    res = subprocess.run([sys.executable, str(LOCKRUN), "--step", str(tmp_path / ".lmp.lock"),
                          "cat", "/proc/self/status"],
                         env=dict(os.environ, SLURM_PROCID=procid),
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    ignored = _ignored(res.stdout)
    assert signal.SIGPIPE not in ignored and signal.SIGXFSZ not in ignored, sorted(ignored)
