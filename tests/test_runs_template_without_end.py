"""A user template without ionmd's ``print "IONMD_END ..."`` after its run (the README
asks for the placeholders of inputs/md.lmp, not that line), run for real (``lmp`` + the
plugin, a 32-atom Morse cell): LAMMPS ran it to its last step and exited 0, and the run is
completed (before: "interrupted at step 50 (exit status 0); run again to resume", and each
``ionmd run`` started it over)."""

from __future__ import annotations

import pytest

from ionmd.protocols import execute, plan_runs
from ionmd.protocols.md_input import INPUTS
from protocol_setup import fcc_cell, morse_model, short

END = 'print           "IONMD_END step $$(step) temp $$(temp) vol $$(vol)"'


@pytest.fixture(scope="module")
def endless(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("template_without_end")
    text = (INPUTS / "md.lmp").read_text()
    assert END in text
    template = tmp / "no_end.lmp"
    template.write_text(text.replace(END, ""))
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.05, discard_ps=0.0,
                  template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp / "morse.pt"), tmp / "out",
                      name="fcc")
    return rd, execute(rd)


def test_a_run_lammps_finished_is_completed(endless):
    rd, status = endless
    log = (rd.path / "log.0.lammps").read_text()
    rows = [int(p[0]) for p in (ln.split() for ln in log.splitlines())
            if len(p) == 9 and p[0].isdigit()]
    assert "IONMD_END" not in log and "\nTotal wall time:" in log     # LAMMPS's own end
    assert rows[-1] == rd.target_step
    assert status["state"] == "completed" and status["step"] == rows[-1]
    before = (rd.path / "log.0.lammps").stat().st_mtime_ns
    assert execute(rd)["state"] == "completed"
    assert (rd.path / "log.0.lammps").stat().st_mtime_ns == before
