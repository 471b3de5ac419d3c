"""A run folder's run.json edited by hand into valid JSON that is no object of keys (a list,
a string: an edit gone wrong) ended a launch in a traceback (AttributeError: 'list' object
has no attribute 'get') from the check of run.json's edits, or a sweep worker's in
RunDir.open, where the analysis says what is wrong (run_spec.read_run_json: "holds a JSON
list, not an object of keys"); so did every command that planned the run's campaign again
(``sweep status``, ``sweep submit``: RunDir.create's record update), and a run.json left no
valid JSON ended those in a JSONDecodeError traceback. Now each refuses it as the analysis
does, naming the file and the fix, with the folder left as it was; a sweep worker returns
the message for that run and goes on with the others.

References: the analysis' own reading of the same file (AnalysisError), and the folder's
bytes and times before and after."""

import json

import pytest

from ionmd.analysis.run_json import read_run_json
from ionmd.errors import AnalysisError, IonmdError
from ionmd.protocols import execute, get_protocol
from ionmd.protocols.plan import plan_runs
from protocol_setup import fcc_cell

NOT_LAMMPS = ["false"]


@pytest.fixture()
def rd(tmp_path, morse):
    protocol = get_protocol("conductivity", temperatures=[600], replicas=1, supercell=None,
                            duration_ps=0.5, discard_ps=0.1, dump_every=100,
                            thermo_every=100, restart_every=100)
    (run,) = plan_runs(protocol, fcc_cell(), morse, tmp_path / "runs")
    return run


def _folder(rd) -> dict:
    return {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in rd.path.iterdir()}


@pytest.mark.parametrize("held", [[], ["discard_ps", 0.3], "discard_ps = 0.3", 0.3])
def test_a_launch_refuses_a_run_json_that_is_no_object(rd, held):
    (rd.path / "run.json").write_text(json.dumps(held))
    with pytest.raises(AnalysisError, match="not an object of keys"):
        read_run_json(rd.path)                              # the analysis refuses it
    before = _folder(rd)
    with pytest.raises(IonmdError) as info:                 # was AttributeError
        execute(rd, launcher=NOT_LAMMPS)
    assert str(rd.path / "run.json") in str(info.value)
    assert "not an object of keys" in str(info.value)
    assert _folder(rd) == before


def test_a_sweep_worker_says_what_is_wrong(rd):
    from ionmd.sweep.state import write_claim
    from ionmd.sweep.worker import run_one

    write_claim(rd, "token", "local", None)
    (rd.path / "run.json").write_text("[]")
    before = {n: (rd.path / n).read_bytes() for n in ("status.json", "run.json")}
    result = run_one(rd.path, "token")                      # was AttributeError
    assert "not an object of keys" in result["error"], result
    assert {n: (rd.path / n).read_bytes() for n in before} == before


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, morse):
    from sweep_setup import campaign_dir, write_campaign

    tmp = tmp_path_factory.mktemp("camp")
    return write_campaign(campaign_dir(tmp / "camp", morse), temperatures=(600,))


@pytest.mark.parametrize("text, said", [("[1]", "not an object of keys"),
                                        ('{"discard_ps": 0.1,', "is not valid JSON")])
def test_sweep_status_names_the_file(campaign, capsys, text, said):
    from ionmd.cli import main
    from ionmd.sweep import load_campaign, plan_campaign

    (run,) = plan_campaign(load_campaign(campaign), create=True)
    (run.path / "run.json").write_text(text)
    try:
        assert main(["sweep", "status", str(campaign)]) == 1    # was a traceback
    finally:
        (run.path / "run.json").unlink()
    err = capsys.readouterr().err
    assert str(run.path / "run.json") in err and said in err and "delete the file" in err
