"""``sweep collect`` with a damaged run and nothing else outstanding: its "partial" line says
to collect again once the damaged files are fixed, not "when they have ended" (a damaged run
never ends by itself: it waits on the user, whose error line follows)."""

from __future__ import annotations

import test_collect_other_runs
from ionmd.cli import main

done = test_collect_other_runs.done         # a finished campaign of two runs (a fixture)


def test_partial_line_of_a_damaged_run_asks_for_its_fix(done, capsys, tmp_path):
    path, runs = done
    damaged, _ = runs
    (damaged.path / "status.json").write_text('{"state": "compl')
    capsys.readouterr()
    code = main(["sweep", "collect", str(path), "--no-progress", "-o", str(tmp_path / "c")])
    out = capsys.readouterr().out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("partial:")]
    assert code == 1
    assert line.startswith("partial: 1 of 2 runs analysed (1 damaged not in the table")
    assert line.endswith("collect again once the damaged runs' files are fixed (said below)")
