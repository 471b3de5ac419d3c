"""A campaign that lists its model through a link (``sevennet.pt -> exports/morse.pt``)
keeps its runs where ionmd has always put them: under the stem of the file the link
points to (``morse``; checked with the tree before 1d2da30, dbdf131). 1d2da30 named the
folders after the link (``sevennet``): every run of such a campaign was planned anew and
would have run again. Tables keep the name as listed. Reference: the run folders of the
same campaign listing the file itself (the same runs: same settings, same model)."""

from __future__ import annotations

import os

from ionmd.sweep import load_campaign
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, write_campaign


def test_a_linked_model_finds_its_runs(tmp_path, morse):
    folder = campaign_dir(tmp_path / "camp", morse)
    (folder / "exports").mkdir()
    os.replace(folder / "morse.pt", folder / "exports" / "morse.pt")
    os.symlink(folder / "exports" / "morse.pt", folder / "sevennet.pt")
    direct = write_campaign(folder, name="direct", models='["exports/morse.pt"]')
    written = plan_campaign(load_campaign(direct, check_resources=False), create=True)
    linked = write_campaign(folder, name="linked", models='["sevennet.pt"]')
    planned = plan_campaign(load_campaign(linked, check_resources=False))
    assert [r.rundir.path for r in planned] == [r.rundir.path for r in written]
    assert all(r.rundir.path.parts[-4] == "morse" for r in planned)
    assert {r.model for r in planned} == {"sevennet"}
    # two links to files of one stem: each model's runs in a folder of its own
    os.makedirs(folder / "other")
    (folder / "other" / "morse.pt").write_bytes((folder / "exports" / "morse.pt").read_bytes())
    os.symlink(folder / "other" / "morse.pt", folder / "mace.pt")
    both = write_campaign(folder, name="both", models='["sevennet.pt", "mace.pt"]')
    planned = plan_campaign(load_campaign(both, check_resources=False))
    folders = {r.model: r.rundir.path.parts[-4] for r in planned}
    assert folders == {"sevennet": "morse", "mace": "other_morse"}
