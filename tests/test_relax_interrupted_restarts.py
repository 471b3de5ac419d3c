"""The relaxation in rounds (inputs version 4) when it ends early: a template's timer
that fires in it leaves no restart file of the unrelaxed cell (the next piece relaxes from
the start, as the status says), and a diverged relaxation run in ionmd's own process (the
module runner) fails that run instead of ending the process. References: the files and
logs LAMMPS leaves, and the process's own output."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ionmd.protocols import execute, plan_runs
from ionmd.protocols.md_input import INPUTS
from ionmd.protocols.restarts import newest_restart
from protocol_setup import fcc_cell, short


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    """The in-process runner's pair style on one thread (without OMP_NUM_THREADS it starts
    one per core, and on a 2-core host shared with another test worker its two threads
    wait on each other: 2-8x the time, helper B7's measurement on test_atstop_analysis)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def test_a_timer_in_the_relaxation_leaves_no_restart_to_resume_unrelaxed(tmp_path, morse):
    """Before: after the timer, the template's `if step % dump_every == 0` wrote the
    unrelaxed cell at step 0 to restart.end, and the next piece resumed from it with no
    relaxation at all (read_restart restart.end), though the status said 'running it again
    relaxes from the start'."""
    template = tmp_path / "timed.lmp"
    template.write_text((INPUTS / "md.lmp").read_text().replace(
        "$prepare", "timer           timeout 0:00:01 every 1\nshell sleep 2\n$prepare"))
    atoms = fcc_cell()
    atoms.set_cell(atoms.cell.array * 1.07, scale_atoms=True)
    proto = short("conductivity-nvt", duration_ps=0.01, discard_ps=0.0,
                  template=str(template))
    (rd,) = plan_runs(proto, atoms, morse, tmp_path / "out", name="x")
    status = execute(rd)
    assert status["state"] == "interrupted" and "relaxes from the start" in status["reason"]
    assert newest_restart(rd) is None and not (rd.path / "restart.end").exists()
    log = (rd.path / "log.0.lammps").read_text()
    assert "IONMD_END" not in log and "ERROR" not in log

    again = execute(rd)                      # the same timer: it stops the same way
    assert again["state"] == "interrupted" and again["resumed_from"] is None
    assert not (rd.path / "log.1.lammps").exists()
    log = (rd.path / "log.0.lammps").read_text()
    assert "read_restart" not in log.replace("read_restart instead", "")
    assert "fix             relax all box/relax" in log


@pytest.mark.parametrize("inputs_version", [3, None])
def test_a_diverged_relaxation_fails_the_run_in_the_module_runner(tmp_path, inputs_version):
    """Before: the relaxation's `quit 3` ended the module runner's Python process itself
    (exit status 3 or 0, nothing printed after, the run's status left 'running'): in
    inputs version 4 until 18fb1b8, in a version-3 folder (its own relaxation,
    cell_relaxation_v3) until the version-3 text ended the input the same way."""
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from contract_models import MorseEdgeModel, save_contract_model
        from protocol_setup import ELEMENTS, MORSE, fcc_cell, sheared, short
        from ionmd.protocols import execute, plan_runs
        from ionmd.protocols.rundir import RunDir
        from pathlib import Path
        where = Path({str(tmp_path)!r})
        weak = save_contract_model(MorseEdgeModel(**{{**MORSE, "d0": 0.02}}),
                                   where / "weak.pt", cutoff=MORSE["rc"], elements=ELEMENTS)
        proto = short("conductivity-nvt", duration_ps=0.01, discard_ps=0.0,
                      pressure_bar=-1e5)
        (rd,) = plan_runs(proto, sheared(fcc_cell()), weak, where / "out", name="x")
        version = {inputs_version!r}
        if version is not None:                  # a folder written by that version
            settings = json.loads((rd.path / "settings.json").read_text())
            settings["inputs_version"] = version
            (rd.path / "settings.json").write_text(json.dumps(settings))
            rd = RunDir.open(rd.path)
        status = execute(rd, runner="module")
        print("STATE", status["state"], status["resumable"])
        print("REASON", status["reason"])
        print("FOLDER", rd.path)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "STATE failed False" in done.stdout, (done.stdout[-2000:], done.stderr[-2000:])
    assert "found no minimum" in done.stdout and "no MD was run" in done.stdout
    folder = done.stdout.rsplit("FOLDER ", 1)[1].strip()
    text = (Path(folder) / "in.0.lmp").read_text()
    relaxation = "minimisation(s)" if inputs_version == 3 else "round(s)"
    assert f"in ${{relax_round}} {relaxation}" in text          # the version's own input
