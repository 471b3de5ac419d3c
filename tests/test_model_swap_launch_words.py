"""What a piece's launch check (:mod:`ionmd.protocols.launch_inputs`) says when the model
file is not the one its run recorded, by what is known: before (bff306c) every mismatch
was "replaced by another model ... (a retrained or another one)", also for an old folder
(recorded only the file's bytes) given a re-export of its own model, for a file half
copied, and a missing file was "cannot be read (No such file or directory)".

The runs are real folders (``plan_runs``'s settings.json); the truth is what each test
did to the model file. A folder "recorded before identities" is one whose settings.json
holds the file's sha256 as ``model_hash`` and no ``model_file_hash``, as those were
written (hashlib's digest here)."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import plan_runs
from ionmd.protocols.execute import check_inputs_unchanged
from contract_models import MorseEdgeModel, save_contract_model
from protocol_setup import ELEMENTS, MORSE, fcc_cell, morse_model, short

OTHER_CASES = ("replaced by another model", "is not there", "cannot be read whole",
               "cannot be told")


def run_of(tmp_path, old_folder: bool = False):
    """A run folder of the Morse model ``tmp_path/morse.pt``; ``old_folder``: its
    settings.json as a folder written before model identities holds them."""
    model = morse_model(tmp_path / "morse.pt")
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.1, discard_ps=0.0)
    (rd,) = plan_runs(proto, fcc_cell(), model, tmp_path / "out", name="fcc")
    if old_folder:
        settings = json.loads((rd.path / "settings.json").read_text())
        del settings["model_file_hash"]
        settings["model_hash"] = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
        (rd.path / "settings.json").write_text(json.dumps(settings))
    return rd, model


def saved_again(model):
    """The same Morse model saved again over ``model``: other bytes (its metadata's
    ``created``, in seconds), one model identity."""
    before = model.read_bytes()
    time.sleep(1.05)
    morse_model(model)
    assert model.read_bytes() != before


def refusal(rd) -> str:
    with pytest.raises(IonmdError) as refused:
        check_inputs_unchanged(rd)
    said = str(refused.value)
    assert rd.status["reason"] == said and rd.status["resumable"] is True
    assert str(rd.model) in said and "Nothing was run" in said
    return said


def only(said: str, case: str) -> None:
    assert case in said, said
    assert not [c for c in OTHER_CASES if c != case and c in said], said


def test_an_old_folder_given_other_bytes_says_it_cannot_tell(tmp_path):
    rd, model = run_of(tmp_path, old_folder=True)
    check_inputs_unchanged(rd)                  # its own bytes: it goes on
    saved_again(model)
    said = refusal(rd)
    only(said, "cannot be told")
    assert "recorded before model identities" in said
    assert "another export of the same model or another model" in said
    assert "restore the file" in said and "output folder" in said


def test_a_missing_file_says_restore_the_path_or_resubmit(tmp_path):
    rd, model = run_of(tmp_path)
    model.unlink()
    said = refusal(rd)
    only(said, "is not there")
    assert "NFS" in said and "moved" in said
    assert "restore the file at that path" in said and "resubmit" in said
    assert "`ionmd sweep submit` from its new place" in said


def test_a_half_copied_file_says_wait_and_resubmit(tmp_path):
    rd, model = run_of(tmp_path)
    whole = model.read_bytes()
    model.write_bytes(whole[: len(whole) // 2])     # a copy under way
    said = refusal(rd)
    only(said, "cannot be read whole")
    assert "being copied" in said and "wait until that ends and resubmit" in said
    model.write_bytes(whole)                        # the copy ended: it goes on
    check_inputs_unchanged(rd)


def test_another_model_says_restore_it_or_give_it_its_own_folder(tmp_path):
    rd, model = run_of(tmp_path)
    saved_again(model)                          # its model saved again goes on
    check_inputs_unchanged(rd)
    save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 2 * MORSE["d0"]}), model,
                        cutoff=MORSE["rc"], elements=ELEMENTS)
    said = refusal(rd)
    only(said, "replaced by another model")
    assert "restore the file its runs were made with" in said
    assert "run folder of its own" in said
    # what else an identity tells apart (its versions), not only a retrained model
    assert "another ionmd or torch version" in said
