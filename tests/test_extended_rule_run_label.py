"""A run its rule stopped and a goal then extended (``RunDir.set_length``) ends at the
extension's length as a fixed-length run: ``stop_reason`` ``extended``, no
``D_ci95_at_stop``, so its D is reported at the ordinary 95 % level, where the rule holds
at its end or not. Before, the audit's 1400 K run (the rule stopped it at 2.5 ps, the goal
took it to 14.5 ps) ended ``converged`` and was reported at 99 %, "stopped by its rule".
Reference: the rule's own record of a run stopped by it (converged, interval at stop), and
:func:`ionmd.analysis.convergence.rule_that_stopped`, which decides the 99 % level."""

from __future__ import annotations

import pytest

import ionmd.analysis.convergence as convergence
from ionmd.analysis.convergence import rule_that_stopped
from ionmd.protocols import plan_runs
from ionmd.protocols.stopping import after_segment
from protocol_setup import fcc_cell, morse_model, short

RULE = "D_rel_ci<=0.3,hops>=10"


@pytest.mark.parametrize("holds", [True, False])
def test_an_extended_rule_run_ends_as_extended(tmp_path, monkeypatch, holds):
    proto = short("conductivity-nvt", until=RULE, duration_ps=4.0, discard_ps=0.5,
                  check_every_ps=0.5, restart_every=500, dump_every=20)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"), tmp_path / "out",
                      name="fcc")
    values = {"D_rel_ci": 0.25 if holds else 0.5, "hops": 12.0,
              "species": {"Li": {"D_ci95_at_stop": [1e-5, 3e-5]}}}
    monkeypatch.setattr(convergence, "check_run", lambda path, fit_start_ps: values)
    rd.set_status("running", step=1500, pieces=2, target_step=1500)
    if holds:       # the rule's own stop first: converged, its interval at stop
        first = after_segment(rd, 1500, {})
        assert first["stop_reason"] == "converged" and first["D_ci95_at_stop"]
        assert rule_that_stopped(first) == RULE
    else:
        rd.set_status("completed", stop_reason="converged", resumable=False)
    rd.set_length(3500)
    rd.set_status("running", step=3500)
    end = after_segment(rd, 3500, {})
    assert end["state"] == "completed" and end["stop_reason"] == "extended", end
    assert end["D_ci95_at_stop"] is None and end["extended_from_step"] == 1500
    assert rule_that_stopped(end) is None           # the ordinary 95 % interval
    assert end["checks"][-1]["met"] is holds        # the check still recorded as it was
