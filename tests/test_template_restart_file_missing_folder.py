"""A template whose own restart file cannot be opened (``write_restart
equil/state.restart`` where the run folder has no equil/): 3f3dfc6 made every 'Cannot open
restart file' an interruption, resumable, so the run was launched again on every call and
failed at the same step, never recorded as failed. Only ionmd's own restart files in the
run folder (restart.a/b, the end restart: a read-only or stale folder, something in the
way; tests/test_end_restart_full_disk.py) are the folder's fault; a template's is its own
failure, with LAMMPS's words.

Reference: real ``lmp`` + the plugin (Morse cell) and its error line.
"""

from __future__ import annotations

from ionmd.protocols import execute, plan_runs
from ionmd.protocols.md_input import INPUTS
from protocol_setup import fcc_cell, morse_model, short


def test_a_templates_own_restart_file_that_cannot_be_opened_is_a_failure(tmp_path):
    text = (INPUTS / "md.lmp").read_text()
    run_line = next(ln for ln in text.splitlines() if ln.startswith("run "))
    template = tmp_path / "equil_restart.lmp"
    template.write_text(text.replace(run_line, "write_restart   equil/state.restart\n"
                                     + run_line))
    proto = short("conductivity", temperatures=(700.0,), duration_ps=0.02, discard_ps=0.01,
                  dump_every=10, thermo_every=10, restart_every=1000, tdamp_fs=50.0,
                  pdamp_fs=500.0, template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"), tmp_path / "runs",
                      name="fcc")
    status = execute(rd)
    assert status["state"] == "failed" and status["resumable"] is False, status
    assert status["reason"].startswith(
        "ERROR on proc 0: Cannot open restart file equil/state.restart: No such file or "
        "directory"), \
        status["reason"]
    again = execute(rd)                            # not launched again
    assert again["pieces"] == 1 and again["reason"] == status["reason"]
