"""A run whose LAMMPS an earlier submitter started and which ended after that submitter
died (its status still says ``running``) is only recorded by the next ``submit``: no LAMMPS
is started for it. The submission says so (``recorded_only`` on its result, "recorded 1
already finished" in its summary); before, it counted it among the runs it ran ("ran 1
run(s): 1 completed").

Reference: the run folder itself (no new piece's input written, pieces unchanged) after a
real LAMMPS run of the Morse model whose status was set back to ``running`` with the pid of
a process that has ended (its submitter's too), as a submitter killed before it recorded the end leaves it."""

from __future__ import annotations

import socket
import subprocess

from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import new_token, write_claim
from ionmd.sweep.submit import submit
from sweep_setup import campaign_dir, write_campaign


def test_a_run_finished_unrecorded_is_recorded_not_counted_as_ran(tmp_path, morse):
    path = write_campaign(campaign_dir(tmp_path / "camp", morse), name="rec",
                          temperatures=(900,), duration_ps=0.2, discard_ps=0.05,
                          executor='kind = "local"\ncores = 1')
    campaign = load_campaign(path)
    first = submit(campaign, progress=False)
    assert "ran 1 run(s): 1 completed" == first.ran_summary()
    (run,) = plan_campaign(campaign)
    done = run.rundir.status
    assert done["state"] == "completed" and done["pieces"] == 1
    gone = subprocess.Popen(["true"])
    gone.wait()                       # the submitter's LAMMPS: ended, its end unrecorded
    run.rundir.set_status("running", pid=gone.pid, runner="subprocess")
    write_claim(run.rundir, new_token(), "local", f"local:{socket.gethostname()}:{gone.pid}")

    again = submit(campaign, progress=False)
    assert run.rundir.status["state"] == "completed"
    assert run.rundir.status["pieces"] == 1 and not (run.path / "in.1.lmp").exists()
    (res,) = again.results
    assert "recorded_only" in res
    assert again.ran_summary().startswith("ran 0 run(s); recorded 1 already finished")
