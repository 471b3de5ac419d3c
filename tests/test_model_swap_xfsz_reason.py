"""A LAMMPS killed by SIGXFSZ (a file it wrote reached the file-size limit, ``ulimit -f``,
it inherited) is told so, with the limit to raise. Before, its reason said "LAMMPS did not
start (killed by SIGXFSZ ...); fix the launcher or environment it names", or "run again to
resume" where it had written a log: run again as it was, it is killed again.

Real run (``lmp`` + the plugin, the tests' Morse model): a launcher that lowers the limit
to 16 KiB before it starts ``lmp``; the truth is the limit the test set."""

from __future__ import annotations

import shutil

from ionmd.protocols import plan_runs
from ionmd.protocols.execute import execute
from protocol_setup import fcc_cell, morse_model, short


def test_a_run_killed_at_the_file_size_limit_is_told_to_raise_it(tmp_path):
    proto = short("conductivity", temperatures=(600.0,), duration_ps=2.0, discard_ps=0.0,
                  dump_every=1)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"), tmp_path / "out",
                      name="fcc")
    lmp = shutil.which("lmp")
    status = execute(rd, launcher=["bash", "-c", 'ulimit -f 16; exec "$@"', "bash", lmp])
    assert status["state"] == "interrupted" and status["resumable"] is True
    reason = status["reason"]
    assert "SIGXFSZ" in reason and "file-size limit" in reason, reason
    assert "ulimit -f unlimited" in reason and "fix the launcher" not in reason, reason
