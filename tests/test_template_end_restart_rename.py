"""A user template copied from md.lmp before 3f3dfc6 renames restart.end.part itself
(``if ... then "write_restart restart.end.part" "shell mv restart.end.part restart.end"``).
On a full disk at the restart file's last, unchecked write (32 atoms: a 4 KB file written
out at its fclose; restart.end.part made a link to ``/dev/full``), its ``shell mv`` put the
cut file over the whole restart.end of step 60, which ionmd then removed: the extension
started over from step 0. ionmd now leaves that rename out of the rendered input and
renames the file itself once whole, as for the preset.

References: real ``lmp`` + the plugin (Morse cell), LAMMPS's restart format (its closing
mark and step, read back), and the trajectory's frames read by ionmd's reader.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.lammps.restart import restart_complete, restart_step
from ionmd.protocols import execute, plan_runs
from ionmd.protocols.md_input import INPUTS
from ionmd.protocols.restarts import END_RESTART
from protocol_setup import fcc_cell, morse_model, short

PART = END_RESTART + ".part"
OLD_LINE = ('if              "$$(step % $dump_every) == 0" then "write_restart restart.end.part" '
            '"shell mv restart.end.part restart.end"')
OLD_ALONE = ('if              "$$(step % $dump_every) == 0" then "write_restart restart.end.part"'
             '\nshell           mv restart.end.part restart.end')


def _old_template(folder, line):
    text = (INPUTS / "md.lmp").read_text()
    new = [ln for ln in text.splitlines() if "write_restart restart.end.part" in ln]
    assert len(new) == 1, "md.lmp's end restart line changed: update this test"
    path = folder / "old_md.lmp"
    path.write_text(text.replace(new[0], line))
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return morse_model(tmp_path_factory.mktemp("model") / "morse.pt")


@pytest.mark.parametrize("line", [OLD_LINE, OLD_ALONE], ids=["in-the-if", "own-line"])
def test_a_templates_own_rename_never_puts_a_cut_file_over_restart_end(tmp_path, model,
                                                                       line):
    proto = short("conductivity", temperatures=(700.0,), duration_ps=0.06, discard_ps=0.01,
                  dump_every=10, thermo_every=10, restart_every=1000, tdamp_fs=50.0,
                  pdamp_fs=500.0, template=str(_old_template(tmp_path, line)))
    (rd,) = plan_runs(proto, fcc_cell(), model, tmp_path / "runs", name="fcc")
    assert execute(rd)["state"] == "completed"
    end = rd.path / END_RESTART
    assert restart_complete(end) and restart_step(end) == 60     # renamed, as before
    before = end.read_bytes()
    rd.set_length(150)
    os.symlink("/dev/full", rd.path / PART)        # its writes: ENOSPC, at the fclose
    status = execute(rd)
    assert status["state"] == "completed" and status["step"] == 150, status
    # was: the link renamed to restart.end by LAMMPS, then removed: no restart.end left
    assert end.is_file() and not end.is_symlink() and end.read_bytes() == before
    commands = [ln for ln in rd.piece(1)["input"].read_text().splitlines()
                if not ln.lstrip().startswith("#")]
    assert not any("shell mv restart.end.part" in ln for ln in commands)
    assert status["restart_end_cut"].endswith(f"({END_RESTART} of step 60 is kept)")
    assert not os.path.lexists(rd.path / PART)
    # extended again, it goes on from step 60, not from step 0
    rd.set_length(230)
    status = execute(rd)
    assert status["state"] == "completed" and status["resumed_from"] == END_RESTART
    assert restart_complete(end) and restart_step(end) == 230
    spec = load_run_spec(rd.path)
    steps = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)[0].steps
    np.testing.assert_array_equal(steps, np.arange(0, 231, 10))


def test_a_templates_own_restart_line_never_writes_first_over_the_resumed_state(tmp_path,
                                                                               model):
    """A template with md.lmp's line before 90ad165 (``restart N restart.a restart.b``):
    resumed from restart.a (restart.b cut by a full disk at step 100), its first write
    went over restart.a in place, the only whole file: now restart.b first."""
    text = (INPUTS / "md.lmp").read_text()
    assert "restart         $restart_every $restart_files" in text
    template = tmp_path / "old_restart_line.lmp"
    template.write_text(text.replace("$restart_files", "restart.a restart.b"))
    proto = short("conductivity", temperatures=(700.0,), duration_ps=0.15, discard_ps=0.01,
                  dump_every=10, thermo_every=10, restart_every=50, tdamp_fs=50.0,
                  pdamp_fs=500.0, template=str(template))
    # 256 atoms: a 23 KB file, whose failed write LAMMPS sees (a 4 KB one fails unseen)
    (rd,) = plan_runs(proto, fcc_cell(reps=4), model, tmp_path / "runs", name="fcc")
    os.symlink("/dev/full", rd.path / "restart.b")
    assert execute(rd)["state"] == "interrupted"
    (rd.path / "restart.b").unlink()
    status = execute(rd)
    assert status["state"] == "completed" and status["resumed_from"] == "restart.a", status
    # LAMMPS's own record of what it wrote: restart.b at 100 (first), restart.a at 150
    steps = {n: restart_step(rd.path / n) for n in ("restart.a", "restart.b")}
    assert steps == {"restart.a": 150, "restart.b": 100}
    assert all(restart_complete(rd.path / n) for n in steps)
