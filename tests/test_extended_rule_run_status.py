"""A run stopped by its rule and then given a longer length (a campaign goal's extension,
``RunDir.set_length``) goes on: the interval it recorded for that stop
(``D_ci95_at_stop``) is no longer the run's, and ``ionmd status`` printed it beside "next
check at step ..." while the extension ran (the audit's 1400 K run of a goal campaign,
killed in its extension). The reference: the rule's own record of an unfinished run,
which carries no such interval (``after_segment`` sets it only where the rule held)."""

from __future__ import annotations

from ionmd.protocols import plan_runs
from ionmd.protocols.stopping import describe_checks
from protocol_setup import fcc_cell, morse_model, short

RULE = "D_rel_ci<=0.3,hops>=10"


def test_extension_drops_the_interval_of_the_earlier_stop(tmp_path):
    proto = short("conductivity-nvt", until=RULE, duration_ps=4.0, discard_ps=0.5,
                  check_every_ps=0.5, restart_every=500, dump_every=20)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"), tmp_path / "out",
                      name="fcc")
    check = {"step": 1500, "time_ps": 1.5, "met": True,
             "values": {"D_rel_ci": 0.25, "hops": 12.0}}
    rd.set_status("completed", step=1500, pieces=2, resumable=False, stop_reason="converged",
                  target_step=1500, checks=[check], D_ci95_at_stop={"Li": [1e-5, 3e-5]})
    assert "for a stop by the rule" in describe_checks(rd.status)
    status = rd.set_length(2500)
    assert status["state"] == "pending" and status["target_step"] == 2500
    assert status.get("stop_reason") is None and not status.get("D_ci95_at_stop")
    line = describe_checks(status)
    assert "next check at step 2500" in line and "for a stop by the rule" not in line
