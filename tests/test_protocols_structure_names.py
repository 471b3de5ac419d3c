"""A structure name that leaves the output folder (``..``, a path separator) is refused
by ``ionmd run`` and :func:`ionmd.protocols.plan_runs` as a campaign refuses it (919e81f
made the campaign refuse ``name = "../../x"``; ``ionmd run --name ../../x -o out`` still
wrote its runs two folders above ``out``). Reference: the campaign's refusal of the same
name, and the file system (nothing written anywhere)."""

from __future__ import annotations

import re

import pytest

from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol, plan_runs
from ionmd.sweep import CampaignError, load_campaign
from protocol_setup import fcc_cell
from sweep_setup import campaign_dir, write_campaign

RUN_ARGS = ["--time", "0.5ps", "--temps", "600", "--supercell", "none", "--set",
            "discard_ps=0.1", "--dry-run"]


def campaign_says(folder, name: str) -> str:
    path = write_campaign(folder, structures=f'[\n{{path = "fcc.cif", name = "{name}"}}]')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    return re.search(r"line \d+: (structure name .*)", str(exc.value)).group(1)


@pytest.mark.parametrize("name", ["../../x", "a/b", ".."])
def test_ionmd_run_and_plan_runs_refuse_a_name_outside_output(tmp_path, morse, capsys, name):
    folder = campaign_dir(tmp_path / "camp", morse)
    said = campaign_says(folder, name)
    before = sorted(p for p in tmp_path.rglob("*"))
    out = tmp_path / "camp" / "deep" / "out"
    assert main(["run", "conductivity", str(folder / "fcc.cif"), "--model",
                 str(folder / "morse.pt"), *RUN_ARGS, "--name", name, "-o", str(out)]) == 1
    assert capsys.readouterr().err.strip() == f"ionmd: error: {said}"
    protocol = get_protocol("conductivity", temperatures=(600.0,), duration_ps=0.5,
                            discard_ps=0.1, supercell=None)
    with pytest.raises(IonmdError) as exc:
        plan_runs(protocol, fcc_cell(), folder / "morse.pt", out, name=name)
    assert str(exc.value) == said
    with pytest.raises(IonmdError) as exc:
        plan_runs(protocol, fcc_cell(), folder / "morse.pt", out, model_name=name)
    assert str(exc.value) == said.replace("structure name", "model name")
    assert sorted(p for p in tmp_path.rglob("*")) == before     # nothing written anywhere
