"""`ionmd run --set mobile_species=Li,Li` passed the launch checks (run_json_edits skips a
value equal to the protocol's, and check_protocol had no rule for it), ran, wrote
["Li", "Li"] to run.json, and then the analysis refused the run (each Li counted twice):
the compute was spent for nothing. check_protocol now applies the analysis's own rule, so
the launch refuses what load_run_spec would, before anything is written or run."""

import json

import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.errors import AnalysisError, IonmdError
from ionmd.protocols import get_protocol
from ionmd.protocols.plan import plan_runs
from protocol_setup import fcc_cell
from run_command_setup import ionmd_run, outside_slurm, record_run_all, run_inputs


def _protocol(mobile):
    return get_protocol("conductivity", temperatures=[600], replicas=1, supercell=None,
                        duration_ps=0.5, discard_ps=0.1, dump_every=100, thermo_every=100,
                        restart_every=100, mobile_species=mobile)


def _analysis_refuses(tmp_path, morse, mobile) -> str | None:
    """What load_run_spec says of a run whose run.json holds `mobile` (None: it reads it)."""
    (rd,) = plan_runs(_protocol(("Li",)), fcc_cell(), morse, tmp_path / "reference")
    record = json.loads((rd.path / "run.json").read_text())
    record["mobile_species"] = list(mobile)
    (rd.path / "run.json").write_text(json.dumps(record))
    try:
        load_run_spec(rd.path)
    except AnalysisError as e:
        return str(e)
    return None


@pytest.mark.parametrize("mobile", [("Li", "Li"), ("Li", "Cl", "Li")])
def test_a_species_named_twice_is_refused_before_the_run(tmp_path, morse, mobile):
    said = _analysis_refuses(tmp_path, morse, mobile)
    assert said is not None and "names Li more than once" in said
    with pytest.raises(IonmdError, match="mobile_species names Li more than once"):
        plan_runs(_protocol(mobile), fcc_cell(), morse, tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_the_command_line_refuses_it_and_runs_each_species_once(tmp_path, monkeypatch,
                                                                capsys):
    outside_slurm(monkeypatch)
    calls = record_run_all(monkeypatch)
    inputs = run_inputs(tmp_path)
    code = ionmd_run(inputs, tmp_path / "twice", "--set", "mobile_species=Li,Li")
    err = capsys.readouterr().err
    assert code != 0 and calls == [] and "names Li more than once" in err
    assert not list((tmp_path / "twice").rglob("run.json"))

    code = ionmd_run(inputs, tmp_path / "once", "--set", "mobile_species=Li,Cl")
    assert code == 0 and len(calls) == 1
    (run_json,) = (tmp_path / "once").rglob("run.json")
    assert json.loads(run_json.read_text())["mobile_species"] == ["Li", "Cl"]
