"""Review of the campaign-path and plan-table changes: ``~`` in a campaign file's paths
read as a shell reads it (os.path.expanduser is the reference), a campaign that an earlier
version ran with ``output = "~/..."`` (then ``<campaign folder>/~/...``) going on in its
folder, and ``sweep plan``'s columns lined up whatever a seed's digit count."""

from __future__ import annotations

import os
import shutil

import pytest

from ionmd.cli import main
from ionmd.sweep import CampaignError, load_campaign
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, write_campaign

NO_USER = "~no_such_user_ionmd_review1"


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    from protocol_setup import morse_model

    return morse_model(tmp_path_factory.mktemp("morse") / "morse.pt")


@pytest.fixture()
def home(tmp_path, monkeypatch):
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


def test_tilde_paths_read_as_a_shell_reads_them(tmp_path, morse, home):
    """``~/x`` is the home folder's x; ``~unknownuser/x`` stays as written, as in a shell
    (was a RuntimeError traceback from pathlib)."""
    folder = campaign_dir(tmp_path / "c", morse)
    assert os.path.expanduser(f"{NO_USER}/runs") == f"{NO_USER}/runs"     # the reference
    c = load_campaign(write_campaign(folder, output="~/runs"), check_resources=False)
    assert c.output == (home / "runs").resolve()
    c = load_campaign(write_campaign(folder, output=f"{NO_USER}/runs"), check_resources=False)
    assert c.output == (folder / os.path.expanduser(f"{NO_USER}/runs")).resolve()
    with pytest.raises(CampaignError) as exc:
        load_campaign(write_campaign(folder, models=f'["{NO_USER}/morse.pt"]'),
                      check_resources=False)
    assert f"looked for {folder / NO_USER / 'morse.pt'}" in str(exc.value)


def test_a_campaign_run_with_a_literal_tilde_folder_goes_on_there(tmp_path, morse, home):
    """Earlier versions read ``output = "~/runs"`` as ``<campaign folder>/~/runs``: a
    campaign resumed from that file finds its runs there (not new ones in the home
    folder)."""
    folder = campaign_dir(tmp_path / "c", morse)
    path = write_campaign(folder, output="written")
    written = plan_campaign(load_campaign(path, check_resources=False), create=True)
    (folder / "~").mkdir()
    shutil.move(folder / "written", folder / "~" / "runs")     # where the old version put them
    c = load_campaign(write_campaign(folder, output="~/runs"), check_resources=False)
    assert c.output == (folder / "~" / "runs").resolve()
    again = plan_campaign(c)
    assert [r.path.relative_to(c.output) for r in again] == \
        [r.path.relative_to(folder / "written") for r in written]
    assert all((r.path / "settings.json").is_file() for r in again)
    assert not (home / "runs").exists()


def test_plan_table_columns_line_up(tmp_path, morse, capsys):
    """A velocity seed has up to 10 digits (1 .. 2**30): the seed and steps columns
    were 7 and 8 wide, so a 9-digit seed pushed its row's steps and state to the right."""
    folder = campaign_dir(tmp_path / "c", morse)
    path = write_campaign(folder, temperatures=(600, 900, 1200.5), replicas=2)
    runs = plan_campaign(load_campaign(path, check_resources=False))
    assert max(len(str(r.seed)) for r in runs) >= 9                # the case reported
    assert main(["sweep", "plan", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["structure", "model"])
    header, rows = lines[at], lines[at + 1:at + 1 + len(runs)]
    names = header.split()
    ends = {n: header.index(n) + len(n) for n in ("T/K", "rep", "seed", "steps")}
    state_at = header.index("state")
    for run, row in zip(runs, rows):
        cells = dict(zip(names, row.split()))
        assert cells["seed"] == str(run.seed)
        for name, value in (("T/K", f"{run.temperature:g}"), ("rep", str(run.replica)),
                            ("seed", str(run.seed)),
                            ("steps", str(run.rundir.planned_steps))):
            assert row[ends[name] - len(value):ends[name]] == value, (name, row, header)
        assert row[state_at:].split()[0] == "new"
