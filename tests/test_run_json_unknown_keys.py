"""run.json refuses every key it does not know (815848a); a run folder that an older ionmd
wrote must still load. Every key ionmd's writers have put in run.json (RunDir.write_run_json
since 00a7359, charges since 140f89c; execute's rewrite of trajectory and logs) and every
key the schema documents is accepted; a run.json exactly as the first writer wrote it (a
stability ramp: temperature_end_K, protocol, ensemble) loads with its values."""

from __future__ import annotations

import json
import re

import pytest

from failure_nacl_runs import lmp, nacl_dir

# ionmd run's run.json of a 2-piece NpT ramp as 00a7359 (first writer) wrote it, with the
# charges 140f89c added
OLD_RUN_JSON = {
    "charges": {"Na": 1.0, "Cl": -1.0},
    "schema": "ionmd-run/1", "temperature_K": 300.0, "timestep_fs": 1.0, "dump_every": 10,
    "discard_ps": 0.0, "mobile_species": ["Na"], "type_map": {"1": "Cl", "2": "Na"},
    "data_file": "struct.data", "atom_style": "id type x y z",
    "trajectory": ["traj.0.dcd"], "logs": ["log.0.lammps"],
    "dump_unwrapped": False, "ensemble": "npt", "protocol": "stability",
    "structure": "NaCl", "replica": 1, "temperature_end_K": 2100.0,
}


def test_a_run_json_as_the_first_writer_wrote_it_loads(tmp_path):
    from ionmd.analysis.run_spec import load_run_spec

    run = nacl_dir(tmp_path / "NaCl" / "300K" / "r1", temperature_K=300.0, dump_every=10)
    lmp(run, "velocity all create 300 1\nfix 1 all nvt temp 300 300 0.1\nthermo 10\n"
             "dump d all dcd 10 traj.0.dcd\nrun 20\n", log="log.0.lammps")
    (run / "run.json").write_text(json.dumps(OLD_RUN_JSON))
    spec = load_run_spec(run)
    assert (spec.temperature_K, spec.temperature_end_K, spec.replica) == (300.0, 2100.0, 1)
    assert spec.mobile_species == ["Na"] and spec.charges == {"Na": 1.0, "Cl": -1.0}
    assert spec.type_map == {1: "Cl", 2: "Na"} and spec.structure == "NaCl"


def test_every_key_the_schema_documents_is_accepted():
    from ionmd.analysis import run_json as run_spec

    documented = re.findall(r'^\s*"(\w+)":', run_spec.__doc__, re.MULTILINE)
    assert set(OLD_RUN_JSON) <= set(documented)
    accepted = set(run_spec.RUN_JSON_KEYS) | {run_spec.NOTES_KEY}
    assert set(documented) == accepted


@pytest.mark.parametrize("key", sorted(OLD_RUN_JSON))
def test_each_written_key_is_read(tmp_path, key):
    from ionmd.analysis.run_json import read_run_json

    (tmp_path / "run.json").write_text(json.dumps({key: OLD_RUN_JSON[key]}))
    assert read_run_json(tmp_path) == {key: OLD_RUN_JSON[key]}
