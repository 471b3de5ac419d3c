"""A campaign's extra sbatch options are compared with those ``sbatch --help`` lists by
``plan`` and ``submit`` only (docs/sweeps.md): ``status`` and ``collect`` read a campaign on
any machine, a laptop without sbatch or with another one. Before, every load ran
``sbatch --help`` and ``--usage`` and refused a campaign whose option that sbatch did not
list, so status and collect failed where plan had passed.

Reference: a PATH whose ``sbatch`` (and ``sinfo``, ``squeue``: no jobs, ``scontrol``) records
each call in a file and lists a few options; the same campaign, planned, calls it and is refused
(so the recorder is what ionmd runs)."""

from __future__ import annotations

import os

import pytest

from ionmd.cli import main
from sweep_setup import campaign_dir, write_campaign

RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$(basename "$0")" in
  sbatch) echo "Usage: sbatch [--mail-type=type] [--exclusive] [--partition=p] script";;
  squeue) ;;                                      # no jobs queued
  *) exit 1;;
esac
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, morse):
    """A campaign whose sbatch option ``mail-typo`` the recording sbatch does not list, and
    the recorder's log."""
    root = tmp_path_factory.mktemp("sbatch_where")
    bin_dir, log = root / "bin", root / "calls.log"
    bin_dir.mkdir()
    for tool in ("sbatch", "sinfo", "squeue", "scontrol"):
        script = bin_dir / tool
        script.write_text(RECORDER.format(log=log))
        script.chmod(0o755)
    mp = pytest.MonkeyPatch()
    mp.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    path = write_campaign(campaign_dir(root / "camp", morse), name="sb",
                          executor='kind = "slurm"\n[executor.sbatch]\nmail-typo = "END"')
    yield path, log
    mp.undo()


def _sbatch_calls(log) -> list[str]:
    return [line for line in log.read_text().splitlines()
            if line.startswith("sbatch")] if log.exists() else []


@pytest.mark.parametrize("command", ["status", "collect"])
def test_status_and_collect_do_not_run_sbatch(recorded, capsys, command):
    path, log = recorded
    assert main(["sweep", command, str(path)]) in (0, None), capsys.readouterr().err
    assert _sbatch_calls(log) == []
    assert "sbatch has no option" not in capsys.readouterr().err


def test_plan_compares_the_options_with_this_sbatch(recorded, capsys):
    path, log = recorded
    assert main(["sweep", "plan", str(path)]) == 1
    assert "sbatch has no option --mail-typo (`sbatch --help`); did you mean --mail-type?" \
        in capsys.readouterr().err
    assert _sbatch_calls(log) == ["sbatch --help", "sbatch --usage"]
