"""A run whose relaxation (the template's ``minimize`` before the MD) loses an atom, run
for real (``lmp`` + the plugin, a 32-atom Morse cell, one atom pushed out through a fixed
z boundary): the status says the minimisation lost it and the MD never started (before:
"atoms lost ... at step N", as if in the MD, N being the minimiser's iteration)."""

from __future__ import annotations

import pytest

from ionmd.protocols import execute, plan_runs
from ionmd.protocols.md_input import INPUTS
from protocol_setup import fcc_cell, morse_model, short

PUSH_OUT = ("change_box      all boundary p p f\ngroup           kick id 1\n"
            "fix             push kick addforce 0 0 -50\nfix_modify      push energy yes\n"
            "min_modify      dmax 0.02\nminimize        1.0e-8 1.0e-4 200 2000\n$prepare")
# the template's own minimisation (an NVT run with relax relaxes the cell too since
# INPUTS_VERSION 3, and LAMMPS's box/relax refuses the non-periodic z this test needs)


@pytest.fixture(scope="module")
def relaxation_loss(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("relaxation_loss")
    template = tmp / "push_out.lmp"
    template.write_text((INPUTS / "md.lmp").read_text().replace("$prepare", PUSH_OUT))
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.05, discard_ps=0.0,
                  relax=False, ensemble="nvt", template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    return rd, execute(rd)


def test_loss_in_the_relaxation_is_said_so(relaxation_loss):
    rd, status = relaxation_loss
    log = (rd.path / "log.0.lammps").read_text()
    # LAMMPS's own account: the echoed minimize, its rows, the error; no MD block after
    after_minimize = log[log.index("\nminimize"):]
    assert "ERROR: Lost atoms" in after_minimize
    assert "Minimization stats" not in log and "\nrun " not in after_minimize
    rows = [int(p[0]) for p in (ln.split() for ln in after_minimize.splitlines())
            if len(p) == 9 and p[0].isdigit()]
    assert rows
    assert status["state"] == "failed" and status["failure_mode"] == "lost_atoms"
    assert status["failed_step"] == 0                  # no MD step was run
    assert (f"during the minimisation before the MD (after its row at step {rows[-1]}), "
            f"so the MD never started") in status["reason"]
