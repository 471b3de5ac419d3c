"""A user's edit of a run folder's run.json (discard_ps, mobile_species: kept by ionmd at
every launch since 1554cd9) that the analysis cannot use was refused only by the analysis,
after the run's compute was spent: a negative or non-numeric discard, one that leaves too
few frames of the run, a mobile species the structure does not hold. Every launch
(ionmd run, a sweep worker: protocols.execute.launch) now refuses it first, naming the
file, key, value and what to write, with the folder left as it was."""

import json

import numpy as np
import pytest

from ionmd.analysis.trajectory import Trajectory
from ionmd.errors import AnalysisError, IonmdError
from ionmd.protocols import execute, get_protocol, run_all
from ionmd.protocols.plan import plan_runs
from protocol_setup import fcc_cell

NOT_LAMMPS = ["false"]        # a launcher that ends at once: the old code launched it


def _runs(root, morse, temperatures=(600,)):
    # 0.5 ps of 1 fs steps, a frame every 100 steps: frames at 0, 0.1, ..., 0.5 ps
    protocol = get_protocol("conductivity", temperatures=list(temperatures), replicas=1,
                            supercell=None, duration_ps=0.5, discard_ps=0.1, dump_every=100,
                            thermo_every=100, restart_every=100)
    return plan_runs(protocol, fcc_cell(), morse, root / "runs")


def _edit(rd, **values):
    record = json.loads((rd.path / "run.json").read_text())
    record.update(values)
    (rd.path / "run.json").write_text(json.dumps(record))


def _folder(rd) -> dict:
    return {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in rd.path.iterdir()}


BAD_EDITS = [
    ("discard_ps", -1.0, "is negative"),
    ("discard_ps", "20ps", "is not a number"),
    ("discard_ps", True, "is not a number"),
    ("discard_ps", 0.45, "leaves 1 frame(s)"),
    ("mobile_species", ["Na"], "names Na"),
    ("mobile_species", "Li", "is not a list"),
    ("mobile_species", [], "is not a list"),
]


@pytest.mark.parametrize("key, value, why", BAD_EDITS)
def test_a_launch_refuses_an_edit_the_analysis_cannot_use(tmp_path, morse, key, value, why):
    (rd,) = _runs(tmp_path, morse)
    _edit(rd, **{key: value})
    before = _folder(rd)
    with pytest.raises(IonmdError) as info:
        execute(rd, launcher=NOT_LAMMPS)
    said = str(info.value)
    assert str(rd.path / "run.json") in said
    assert f'"{key}": {json.dumps(value)} {why}' in said
    assert "write " in said and "delete the key" in said
    assert _folder(rd) == before                       # nothing written, nothing removed


def test_the_longest_discard_is_the_analysis_own(tmp_path, morse):
    """Refused exactly where the analysis' Trajectory.discard refuses the run's frames."""
    from ionmd.protocols.run_json_edits import run_json_edit_problems

    (rd,) = _runs(tmp_path, morse)
    p = rd.protocol
    steps = np.arange(0, rd.planned_steps + 1, p.dump_every)
    n = len(steps)
    traj = Trajectory(positions=np.zeros((n, 2, 3)), boxes=np.tile(np.eye(3) * 10, (n, 1, 1)),
                      steps=steps, elements=np.array(["Li", "Cl"]), masses=np.ones(2),
                      timestep_fs=p.timestep_fs)
    for discard in (0.0, 0.25, 0.3, 0.3 + 1e-6, 0.31, 0.4, 0.5, 0.6):
        _edit(rd, discard_ps=discard)
        try:
            traj.discard(discard)
            analysed = True
        except AnalysisError:
            analysed = False
        assert (run_json_edit_problems(rd) == []) == analysed, discard


def test_a_usable_edit_is_launched(tmp_path, morse):
    (rd,) = _runs(tmp_path, morse)
    _edit(rd, discard_ps=0.3, mobile_species=["Li", "Cl"])
    status = execute(rd, launcher=NOT_LAMMPS)           # started (then ended: not LAMMPS)
    assert status["pieces"] == 1 and (rd.path / "in.0.lmp").is_file()
    record = json.loads((rd.path / "run.json").read_text())
    assert record["discard_ps"] == 0.3 and record["mobile_species"] == ["Li", "Cl"]


def test_ionmd_run_refuses_before_any_run_starts(tmp_path, morse):
    first, second = _runs(tmp_path, morse, temperatures=(600, 700))
    _edit(second, mobile_species=["Na"])
    before = _folder(first)
    with pytest.raises(IonmdError, match="mobile_species"):
        run_all([first, second], progress=False)
    assert _folder(first) == before and first.status["pieces"] == 0


def test_a_sweep_worker_refuses_it_and_says_why(tmp_path, morse):
    from ionmd.sweep.state import write_claim
    from ionmd.sweep.worker import run_one

    (rd,) = _runs(tmp_path, morse)
    write_claim(rd, "token", "local", None)
    _edit(rd, discard_ps=-5)
    before = {n: (rd.path / n).read_bytes() for n in ("status.json", "run.json")}
    result = run_one(rd.path, "token")
    assert '"discard_ps": -5 is negative' in result["error"]
    assert result["state"] == "pending"
    assert {n: (rd.path / n).read_bytes() for n in before} == before
