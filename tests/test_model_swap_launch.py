"""A run never goes on with a model or input template that is not the one its folder
recorded (``settings.json``): every piece, the first and each resume, checks them at its
launch (:mod:`ionmd.protocols.launch_inputs`). Before, a model file replaced while runs
were queued, or before a requeue, was run without a check: the later runs (or the rest of
one trajectory) ran the new model, recorded under the old model's hash.

Real runs (``lmp`` + the plugin, the tests' Morse model on a 32-atom cell). The truth is
what the test did: which file it put where; a re-export of the recorded model (the same
module saved again: other bytes, one identity) must still run."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from ionmd.errors import IonmdError
from ionmd.export.model_identity import file_digest, model_identity
from ionmd.protocols import plan_runs
from ionmd.protocols.execute import execute
from ionmd.protocols.md_input import INPUTS
from contract_models import MorseEdgeModel, save_contract_model
from protocol_setup import (ELEMENTS, MORSE, fcc_cell, killed_then_resumed_template,
                            morse_model, short)

KILLED_AT = 150


def retrained(path):
    """Another Morse model (twice the well depth) written over ``path``: a retrained one."""
    return save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 2 * MORSE["d0"]}), path,
                               cutoff=MORSE["rc"], elements=ELEMENTS)


def test_a_retrained_model_stops_the_resume_and_a_re_export_goes_on(tmp_path):
    model = morse_model(tmp_path / "morse.pt")
    first_bytes = model.read_bytes()
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.3, discard_ps=0.0,
                  template=killed_then_resumed_template(tmp_path / "t.lmp", KILLED_AT, ""))
    (rd,) = plan_runs(proto, fcc_cell(), model, tmp_path / "out", name="fcc")
    assert execute(rd)["state"] == "interrupted"          # killed at step 150 (a requeue)
    kept = sorted(p.name for p in rd.path.iterdir())

    retrained(model)
    settings = json.loads((rd.path / "settings.json").read_text())
    assert model_identity(model) != settings["model_hash"]
    with pytest.raises(IonmdError) as refused:
        execute(rd)
    said = str(refused.value)
    assert str(model) in said and "replaced by another model" in said
    assert "restore the file" in said and "output folder" in said
    status = rd.status
    assert status["state"] == "interrupted" and status["resumable"] is True
    assert status["reason"] == said and status["pieces"] == 1       # recorded, nothing run
    assert sorted(p.name for p in rd.path.iterdir()) == kept        # nothing lost

    # the same model exported again (other bytes, its identity) goes on from its restart
    model.write_bytes(first_bytes)
    time.sleep(1.05)        # the export's time is in its metadata, to the second: other bytes
    morse_model(model)
    assert model.read_bytes() != first_bytes
    assert file_digest(model) != settings["model_file_hash"]
    done = execute(rd)
    assert done["state"] == "completed" and done["pieces"] == 2


def test_a_changed_template_stops_the_first_piece(tmp_path):
    model = morse_model(tmp_path / "morse.pt")
    template = tmp_path / "t.lmp"
    shutil.copy(INPUTS / "md.lmp", template)              # a user's template
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.1, discard_ps=0.0,
                  template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), model, tmp_path / "out", name="fcc")
    original = template.read_text()
    template.write_text(original.replace("$ensemble", "$ensemble\nfix zero all setforce 0 0 0"))
    with pytest.raises(IonmdError, match="input template .* changed since the run"):
        execute(rd)
    assert rd.status["state"] == "interrupted" and rd.status["pieces"] == 0
    assert not rd.piece(0)["input"].exists()
    template.write_text(original)                       # restored: it runs
    assert execute(rd)["state"] == "completed"


def test_a_sweep_worker_refuses_a_queued_run_whose_model_was_replaced(tmp_path, morse):
    """The audit's repro: a campaign's runs written (queued), then its model file replaced
    before a worker runs them: each is refused, recorded in its status and its claim."""
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import new_token, read_claim, write_claim
    from ionmd.sweep.worker import run_one
    from sweep_setup import campaign_dir, write_campaign

    folder = campaign_dir(tmp_path / "c", morse)
    campaign = load_campaign(write_campaign(folder, temperatures=(600,)),
                             check_resources=False)
    (run,) = plan_campaign(campaign, create=True)
    token = new_token()
    write_claim(run.rundir, token, "local")
    retrained(folder / "morse.pt")
    result = run_one(run.rundir.path, token)
    assert "replaced by another model" in result["error"]
    assert result["state"] == "interrupted" and result["pieces"] == 0
    assert "replaced by another model" in read_claim(run.rundir)["error"]
    assert "replaced by another model" in run.rundir.status["reason"]
