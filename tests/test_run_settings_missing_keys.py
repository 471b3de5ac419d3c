"""A run folder's ``settings.json`` of valid JSON that lacks keys every run folder has (a
hand edit, a file written by another program) is refused naming the folder, the keys and
what to do; before, ``RunDir.open`` raised a bare KeyError ('replica'). And the check of
whether a folder holds the campaign's run (reopening it, collect naming what differs)
has one public home in run_settings. Reference: the keys ``RunDir.settings`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols.presets import Protocol
from ionmd.protocols.rundir import RunDir
from ionmd.protocols.run_settings import run_defining_settings


def _written(path: Path) -> dict:
    """A run folder's settings as ionmd writes them (no model file needed: its hashes
    are stand-ins)."""
    path.mkdir()
    rd = RunDir(path, Protocol(name="p", source="s", seed=1), 600.0, 2, Path("m.pt"), "fcc",
                ["Li", "Cl"])
    proto = rd.protocol.to_dict()
    proto.pop("temperatures")
    proto.pop("replicas")
    return {"protocol": proto, "temperature_K": 600.0, "replica": 2,
            "model": str(path / "m.pt"), "model_hash": "a", "model_file_hash": "b",
            "structure": "fcc", "structure_hash": "c", "elements": ["Li", "Cl"],
            "velocity_seed": 7, "inputs_version": 3}


@pytest.mark.parametrize("gone", [("replica",), ("protocol", "elements")])
def test_settings_missing_keys_are_named_with_the_folder(tmp_path, gone):
    folder = tmp_path / "r2"
    settings = _written(folder)
    (folder / "settings.json").write_text(json.dumps(settings))
    assert RunDir.open(folder).replica == 2          # whole: it opens
    for key in gone:
        del settings[key]
    text = json.dumps(settings)
    (folder / "settings.json").write_text(text)
    with pytest.raises(IonmdError) as info:
        RunDir.open(folder)
    said = str(info.value)
    assert f"{folder / 'settings.json'} lacks the key(s) {', '.join(gone)}" in said, said
    assert "restore it from a copy of the run folder" in said
    assert isinstance(info.value, ValueError)       # as a file holding no JSON object
    assert (folder / "settings.json").read_text() == text                 # kept


def test_a_protocol_that_is_no_object_is_named(tmp_path):
    folder = tmp_path / "r2"
    settings = {**_written(folder), "protocol": "conductivity"}
    (folder / "settings.json").write_text(json.dumps(settings))
    with pytest.raises(IonmdError, match="has a protocol that is no JSON object"):
        RunDir.open(folder)


def test_what_decides_the_same_run_is_public(tmp_path):
    have = _written(tmp_path / "r2")
    # moved (the model elsewhere), another export of the model (its bytes), more replicas
    moved = {**have, "model": "/elsewhere/m.pt", "model_file_hash": "other",
             "protocol": {**have["protocol"], "replicas": 5}}
    a, b = run_defining_settings(have, moved)
    assert a == b
    a, b = run_defining_settings(have, {**moved, "temperature_K": 900.0})
    assert a != b and a["temperature_K"] == 600.0 and b["temperature_K"] == 900.0
