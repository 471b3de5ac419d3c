"""A rule run a goal extended while an ionmd before 94866db ran the campaign has no
``extended_from_step`` in its status (that ionmd's ``RunDir.set_length`` wrote none);
resumed by this one, its end was taken for the rule's own stop again: ``converged``, its
D reported at 99 % "stopped by its rule", the defect 94866db fixed for new extensions
(audit A21). A check before the end that met the rule says the run was extended: the rule
stops a run at the first check it holds at, so one that ran past such a check was given a
longer length. Reference: the rule's own record of the first stop (converged at its
check) and :func:`ionmd.analysis.convergence.rule_that_stopped`, which decides the 99 %
level."""

from __future__ import annotations

import ionmd.analysis.convergence as convergence
from ionmd.analysis.convergence import rule_that_stopped
from ionmd.protocols import plan_runs
from ionmd.protocols.stopping import after_segment
from protocol_setup import fcc_cell, morse_model, short

RULE = "D_rel_ci<=0.3,hops>=10"


def _rule_run(tmp_path, monkeypatch, d_rel_ci: float):
    """A planned conductivity-nvt run stopped by RULE (checks every 0.5 ps) and the values
    its checks read (12 hops, ``d_rel_ci``; a test may change them between checks)."""
    values = {"D_rel_ci": d_rel_ci, "hops": 12.0,
              "species": {"Li": {"D_ci95_at_stop": [1e-5, 3e-5]}}}
    proto = short("conductivity-nvt", until=RULE, duration_ps=4.0, discard_ps=0.5,
                  check_every_ps=0.5, restart_every=500, dump_every=20)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"), tmp_path / "out",
                      name="fcc")
    monkeypatch.setattr(convergence, "check_run", lambda path, fit_start_ps: values)
    return rd, values


def test_an_extension_begun_by_an_older_ionmd_ends_as_extended(tmp_path, monkeypatch):
    rd, _ = _rule_run(tmp_path, monkeypatch, 0.25)
    rd.set_status("running", step=1500, pieces=2, target_step=1500)
    first = after_segment(rd, 1500, {})
    assert first["stop_reason"] == "converged" and rule_that_stopped(first) == RULE
    # what the older ionmd's set_length wrote: the new length, no extended_from_step
    rd.set_status("pending", length_steps=3500, planned_steps=3500, resumable=True,
                  target_step=3500, stop_reason=None)
    assert rd.status.get("extended_from_step") is None
    rd.set_status("running", step=3500)
    end = after_segment(rd, 3500, {})
    # old: 'converged', D_ci95_at_stop kept, reported at 99 %
    assert end["state"] == "completed" and end["stop_reason"] == "extended", end
    assert end["D_ci95_at_stop"] is None and end["extended_from_step"] == 1500
    assert rule_that_stopped(end) is None


def test_a_rule_run_that_never_met_its_rule_before_still_converges(tmp_path, monkeypatch):
    """The checks before that did not meet the rule say nothing of an extension."""
    rd, values = _rule_run(tmp_path, monkeypatch, 0.5)
    rd.set_status("running", step=1000, pieces=1, target_step=1000)
    assert after_segment(rd, 1000, {})["state"] == "pending"
    values.update(D_rel_ci=0.25)
    rd.set_status("running", step=1500)
    end = after_segment(rd, 1500, {})
    assert end["stop_reason"] == "converged" and end.get("extended_from_step") is None
