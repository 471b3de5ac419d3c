"""A failure LAMMPS stopped an ionmd run for (``fix halt`` at the protocol's volume limit,
recorded in ``status.json``) is a failure for every analysis command, also where the
post-mortem's own checks cannot see it: a run halted at a 4 % volume limit has no 50 %
change for the post-mortem to find, and ``ionmd analyze`` reported its diffusion as a
sound result (and ``sweep collect`` kept it out of the before-failure window). The
reference is LAMMPS's own verdict (the step fix halt fired at) and the run's own log."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ionmd.cli import main
from ionmd.protocols import plan_runs, run_all
from protocol_setup import fcc_cell, morse_model, short

LIMIT = 0.04          # |V/V0 - 1|: the 32-atom cell heated 300 -> 2100 K passes it mid-ramp


@pytest.fixture(scope="module")
def halted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("halted")
    proto = short("stability", temperatures=(300.0,), temperature_end=2100.0,
                  duration_ps=0.4, discard_ps=0.0, halt_volume_change=LIMIT,
                  halt_check_every=10, tdamp_fs=50.0, pdamp_fs=200.0)
    (rd,) = plan_runs(proto, fcc_cell(a=3.68), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    (status,) = run_all([rd], progress=False)
    return rd, status


def test_halted_run_is_failed_for_the_analysis(halted):
    rd, status = halted
    assert status["state"] == "failed" and status["failure_mode"] == "volume_change", status
    step = status["failed_step"]
    assert 0 < step < status["planned_steps"]
    assert main(["analyze", str(rd.path), "--fit-start-ps", "0.02", "--window-ps", "0.1"]) in (0, None)
    res = json.loads((rd.path / "analysis" / "results.json").read_text())
    failure = res["failure"]
    assert failure["failed"] and failure["modes"] == ["volume_change"]
    (event,) = failure["events"]
    assert event["step"] == step
    ramp = 300.0 + (2100.0 - 300.0) * step / status["planned_steps"]
    assert event["target_temperature_K"] == pytest.approx(ramp)
    assert res["diffusion"] == []                    # before: the whole run's D, as if sound
    window = res["before_failure"]
    assert window["failure_step"] == step and window["last_step"] <= step
    assert res["run_record"]["failed"]


def test_halt_step_is_where_the_volume_passed_the_limit(halted):
    """The recorded step against the run's own thermo rows: the volume is within the
    limit before it and beyond it at it (fix halt checks every 10 steps, as thermo prints)."""
    rd, status = halted
    text = (rd.path / "log.0.lammps").read_text()
    v0 = float(re.search(r"^IONMD_V0 (\S+)$", text, re.M).group(1))
    md = text[text.rindex("   Step "):]            # the MD's block (the minimiser's before)
    header = md.splitlines()[0].split()
    rows = [(int(p[0]), float(p[header.index("Volume")]))
            for p in (ln.split() for ln in md.splitlines()[1:])
            if len(p) == len(header) and p[0].isdigit()]
    steps, volumes = np.array(rows).T
    change = np.abs(volumes / v0 - 1)
    step = status["failed_step"]
    assert change[steps < step].max() <= LIMIT
    assert change[steps == step].max() > LIMIT
