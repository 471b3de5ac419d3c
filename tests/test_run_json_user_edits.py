"""A user may edit a finished run's run.json to analyse it otherwise (a longer discard:
collect's cache sees the edit since b448216). ionmd wrote run.json again from the protocol
at every launch of a piece (a resumed or goal-extended run) and at a reset, silently undoing
the edit: the next collect reported the D of the old discard. The analysis settings a user
may edit (discard_ps, mobile_species) are now kept as the file holds them; what says how
the run was run is ionmd's."""

import json

from ionmd.protocols import get_protocol
from ionmd.protocols.plan import plan_runs
from ionmd.protocols.rundir import EDITABLE_RUN_JSON_KEYS, RunDir
from protocol_setup import fcc_cell


def _run(tmp_path, morse):
    protocol = get_protocol("conductivity", temperatures=[600], replicas=1, supercell=None,
                            duration_ps=0.5, discard_ps=0.1)
    (rd,) = plan_runs(protocol, fcc_cell(), morse, tmp_path / "runs")
    return rd


def _edit(rd, **values):
    record = json.loads((rd.path / "run.json").read_text())
    record.update(values)
    (rd.path / "run.json").write_text(json.dumps(record))


def test_a_launch_and_a_reset_keep_a_users_discard(tmp_path, morse):
    rd = _run(tmp_path, morse)
    assert json.loads((rd.path / "run.json").read_text())["discard_ps"] == 0.1
    _edit(rd, discard_ps=0.3, mobile_species=["Li", "Cl"], temperature_K=1.0)
    reopened = RunDir.open(rd.path)
    reopened.write_run_json(2, held_charges=True)           # what a piece's launch writes
    record = json.loads((rd.path / "run.json").read_text())
    assert record["discard_ps"] == 0.3 and record["mobile_species"] == ["Li", "Cl"]
    assert record["temperature_K"] == 600.0                # how the run was run: ionmd's
    assert len(record["logs"]) == 2
    reopened.reset()                                        # a failed run retried
    record = json.loads((rd.path / "run.json").read_text())
    assert record["discard_ps"] == 0.3 and record["mobile_species"] == ["Li", "Cl"]


def test_the_keys_kept_are_analysis_settings():
    from ionmd.analysis.run_json import RUN_JSON_KEYS

    assert set(EDITABLE_RUN_JSON_KEYS) <= set(RUN_JSON_KEYS)
