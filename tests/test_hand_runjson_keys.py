"""A hand-written ``run.json`` with a key analysis does not read: ignored, it left the value
at its default (``"T"``, ``"mobile"``, ``"discard_time"``: analysed at the logs' target,
with Li mobile, nothing discarded) and gave a silently wrong number. Every unknown key is
refused, naming the file and, for a synonym, the key meant; ``notes`` holds the user's
own; ionmd's own ``run.json`` of a real protocol run still loads, as it was written."""

from __future__ import annotations

import json

import pytest
from ase.io import write

from ionmd.analysis.run_json import read_run_json
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.errors import AnalysisError
from protocol_setup import ELEMENTS, fcc_cell

# what users write for each key (the reference: docs/analysis.md's key list)
SYNONYMS = [("T", "temperature_K"), ("temp", "temperature_K"), ("Temperature", "temperature_K"),
            ("temperature", "temperature_K"), ("T_end", "temperature_end_K"),
            ("dt", "timestep_fs"), ("timestep", "timestep_fs"), ("time_step", "timestep_fs"),
            ("species", "mobile_species"), ("mobile", "mobile_species"),
            ("mobile_ions", "mobile_species"), ("traj", "trajectory"),
            ("trajectories", "trajectory"), ("dump", "trajectory"),
            ("discard_time", "discard_ps"), ("discard", "discard_ps"),
            ("equilibration_ps", "discard_ps"), ("dump_freq", "dump_every"),
            ("log", "logs"), ("data", "data_file"), ("charge", "charges"),
            ("oxidation_states", "charges"), ("types", "type_map"),
            ("comment", "notes"), ("note", "notes")]


@pytest.mark.parametrize("said, meant", SYNONYMS)
def test_a_synonym_is_refused_naming_the_key_meant(tmp_path, said, meant):
    (tmp_path / "run.json").write_text(json.dumps({"timestep_fs": 2.0, said: 1}))
    with pytest.raises(AnalysisError) as exc:
        read_run_json(tmp_path)
    message = str(exc.value)
    assert str(tmp_path / "run.json") in message
    assert f"unknown key {said!r}; did you mean {meant!r}?" in message


def test_every_unknown_key_is_refused_and_named(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"temperature_K": 900, "mobile": ["Na"],
                                                   "my_flag": True}))
    with pytest.raises(AnalysisError) as exc:
        read_run_json(tmp_path)
    message = str(exc.value)
    assert "unknown key 'mobile'; did you mean 'mobile_species'?" in message
    assert "unknown key 'my_flag'" in message and "'my_flag'; did you" not in message
    assert "notes of your own go under 'notes'" in message


def test_notes_are_kept_for_the_user(tmp_path):
    notes = {"author": "me", "date": "2026-12-06", "lmp": "lmp -in in.lmp"}
    (tmp_path / "run.json").write_text(json.dumps({"temperature_K": 900, "notes": notes}))
    assert read_run_json(tmp_path)["notes"] == notes


def test_the_run_json_ionmd_run_writes_still_loads(tmp_path, morse):
    write(tmp_path / "POSCAR", fcc_cell(), format="vasp")
    out = tmp_path / "runs"
    assert main(["run", "conductivity", str(tmp_path / "POSCAR"), "--model", str(morse),
                 "--temps", "700", "--time", "0.02ps", "--supercell", "none", "--name", "fcc",
                 "-o", str(out), "--set", "tdamp_fs=50", "--set", "pdamp_fs=500",
                 "--set", "discard_ps=0.004", "--set", "dump_every=2",
                 "--no-progress"]) == 0
    (run,) = [p.parent for p in out.rglob("run.json")]
    written = json.loads((run / "run.json").read_text())
    spec = load_run_spec(run)
    # what the command asked for, read back through every key ionmd wrote
    assert (spec.temperature_K, spec.discard_ps, spec.dump_every) == (700.0, 0.004, 2)
    assert spec.type_map == dict(enumerate(ELEMENTS, start=1))
    assert spec.structure == "fcc" and [p.name for p in spec.trajectory] == written["trajectory"]
    assert set(written) >= {"schema", "protocol", "ensemble", "timestep_fs"}


def test_the_synonym_table_names_known_keys_once():
    from ionmd.analysis.run_json import NOTES_KEY, RUN_JSON_KEYS, RUN_JSON_SYNONYMS
    from ionmd.suggest import folded

    assert set(RUN_JSON_SYNONYMS) <= set(RUN_JSON_KEYS) | {NOTES_KEY}
    said = [folded(s) for synonyms in RUN_JSON_SYNONYMS.values() for s in synonyms]
    assert len(said) == len(set(said))
    assert not set(said) & {folded(k) for k in (*RUN_JSON_KEYS, NOTES_KEY)}
