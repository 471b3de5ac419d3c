"""``ionmd sweep``'s exit status follows one documented rule, the most serious state of the
campaign's runs wins: 1 (a damaged run) over 3 (a failed one) over 4 (one not finished)
over 0, listed in ``--help``. A damaged run's 1 no longer hides the failed or unfinished
runs beside it: submit names them with their own statuses (before, it said only ``exit
status 1``, and ``--help`` listed no status at all). The runs are local, their execution a
stand-in that ends each as the test says (completed, failed by fix halt, interrupted); the
reference is each run's own state as written."""

from __future__ import annotations

import re

import pytest

from ionmd.cli import main

CUT = '{"state": "compl'        # a status.json cut short: the run reads damaged


def _submit(tmp_path, morse, monkeypatch, capsys, ends: list[str]):
    """A local campaign of ``1 + len(ends)`` runs, the first damaged, the others ended by
    the stand-in as ``ends`` says; submit's exit status and stderr."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, write_campaign

    temps = tuple(600 + 100 * k for k in range(1 + len(ends)))
    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=temps,
                          executor='kind = "local"\ncores = 1')
    runs = plan_campaign(load_campaign(path), create=True)
    (runs[0].path / "status.json").write_text(CUT)
    end_of = {r.path: end for r, end in zip(runs[1:], ends)}

    def execute(rd, **kw):
        end = end_of[rd.path]
        if end == "failed":             # fix halt: a physical failure, never rerun
            return rd.set_status("failed", step=10, failed_step=10, resumable=False,
                                 reason="fix halt: volume changed")
        if end == "interrupted":
            return rd.set_status("interrupted", step=10, resumable=True, reason="killed")
        return rd.set_status("completed", step=rd.planned_steps)

    monkeypatch.setattr(worker_mod, "execute", execute)
    capsys.readouterr()
    code = main(["sweep", "submit", str(path), "--no-progress"])
    return code, capsys.readouterr().err


def test_damaged_run_wins_and_names_the_failed_one(tmp_path, morse, monkeypatch, capsys):
    code, err = _submit(tmp_path, morse, monkeypatch, capsys,
                        ["failed", "interrupted", "completed"])
    assert code == 1
    line = next(ln for ln in err.splitlines() if "exit status" in ln)
    assert "exit status 1: 1 damaged, over 1 failed (3) and 1 interrupted (4)" in line


def test_damaged_run_over_an_unfinished_one(tmp_path, morse, monkeypatch, capsys):
    code, err = _submit(tmp_path, morse, monkeypatch, capsys, ["interrupted"])
    assert code == 1
    assert "exit status 1: 1 damaged, over 1 interrupted (4)" in err
    assert "failed (3)" not in err


@pytest.mark.parametrize("command", ["submit", "status", "collect"])
def test_help_lists_the_exit_statuses_in_their_order(command, capsys):
    with pytest.raises(SystemExit) as done:
        main(["sweep", command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "the most serious state" in text
    codes = [int(m) for m in re.findall(r"^\s+([0-9])\s\s", text, re.M)]
    assert codes == [1, 3, 4, 0]
