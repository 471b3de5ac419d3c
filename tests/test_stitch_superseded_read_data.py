"""A hand run continued with ``read_data`` (segment 0 dumps seg0.dcd and writes seg0.data,
segment 1 reads it, no ``reset_timestep``, and dumps seg1.dcd from step 0 again): stitching
keeps seg1 alone, as after ``reset_timestep 0`` following an equilibration (the frames
cannot tell the two apart), and now says so (audit A27): a :class:`SupersededNote`, the
file, frames, steps and time dropped in results.json's ``superseded_frames``, and the
``reset_timestep`` that makes it a continuation. Before, seg0's frames went without a word.

References: the steps LAMMPS dumped (each DCD's own header, read with MDAnalysis) and the
run's inputs (segment 0's last step, the frame write_data saved)."""

import json
import warnings

import numpy as np
import pytest

from hand_run_inputs import LJ_ROCK_SALT, lj_pair, run_then_resume

EVERY, STEPS = 10, 100

_SEG0 = LJ_ROCK_SALT + f"""velocity all create 900 1234 mom yes rot yes
timestep 0.002
fix 1 all nvt temp 900 900 0.1
dump d all dcd {EVERY} seg0.dcd
run {STEPS}
write_data seg0.data
"""

# write_data saved the pair coefficients: the pair style goes before read_data
_SEG1 = """units metal
atom_style atomic
pair_style lj/cut 6.0
read_data seg0.data
""" + lj_pair("6.0") + f"""timestep 0.002
fix 1 all nvt temp 900 900 0.1
thermo 50
dump d all dcd {EVERY} seg1.dcd
run {STEPS}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_then_resume(tmp_path_factory.mktemp("read_data") / "LiCl" / "900K",
                           _SEG0, _SEG1)


def _dcd_steps(path) -> list[int]:
    """The steps of a DCD's frames as its own header gives them (MDAnalysis's reader)."""
    from MDAnalysis.coordinates.DCD import DCDReader

    r = DCDReader(str(path))
    head = r._file.header
    return [head["istart"] + k * head["nsavc"] for k in range(r.n_frames)]


def test_read_frames_notes_the_replaced_segment(run):
    from ionmd.analysis.stitching import SupersededNote
    from ionmd.analysis.trajectory import read_frames

    seg0, seg1 = _dcd_steps(run / "seg0.dcd"), _dcd_steps(run / "seg1.dcd")
    assert seg0 == seg1 == list(range(0, STEPS + 1, EVERY))     # both from step 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames, _, _ = read_frames(run / "start.data", [run / "seg0.dcd", run / "seg1.dcd"])
    notes = [w.message for w in caught if isinstance(w.message, SupersededNote)]
    assert frames.steps.tolist() == seg1
    assert len(notes) == 1
    n = notes[0]
    assert (n.piece, n.by, n.frames) == (0, 1, len(seg0))
    assert (n.first_step, n.last_step, n.restart_step) == (0, STEPS, 0)
    assert n.continues_at == STEPS      # seg1's first frame is seg0's last (write_data's)


def test_analyze_says_what_was_dropped(run, capsys):
    from ionmd.cli import main

    out = run.parent / "analysis_rd"
    code = main(["analyze", str(run), "--data-file", str(run / "start.data"), "-o", str(out),
                 "--fit-start-ps", "0.02", "--fit-end-ps", "0.08"])
    printed = capsys.readouterr()
    err = printed.err
    assert code == 0, err
    res = json.loads(next(out.rglob("results.json")).read_text())
    assert res["trajectory"] == ["seg0.dcd", "seg1.dcd"]
    [dropped] = res["superseded_frames"]
    assert dropped["file"] == "seg0.dcd" and dropped["by"] == "seg1.dcd"
    assert dropped["frames"] == STEPS // EVERY + 1
    assert dropped["time_ps"] == pytest.approx(STEPS * 0.002)
    assert dropped["continues_at_step"] == STEPS
    assert f"add `reset_timestep {STEPS}`" in dropped["note"]
    assert "seg0.dcd's 11 frames" in err and f"reset_timestep {STEPS}" in err
    assert f"NOTE: {dropped['note']}" in printed.out      # beside the run's other lines


def test_a_restart_resume_is_not_noted():
    """A piece resumed from a restart repeats the same state at its first step: the killed
    run's frames after it are run again, nothing of the run is lost, no note."""
    from ionmd.analysis.stitching import SupersededNote, stitch
    from ionmd.analysis.unwrapping import Piece

    rng = np.random.default_rng(0)
    box = np.eye(3) * 10.0
    pos = rng.uniform(0, 10, (7, 4, 3))
    a = Piece(pos[:5], np.repeat(box[None], 5, 0), np.arange(0, 50, 10))
    b = Piece(pos[2:], np.repeat(box[None], 5, 0), np.arange(20, 70, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SupersededNote)
        joined = stitch([a, b])
    assert joined.steps.tolist() == list(range(0, 70, 10))
    # the same pieces but b from another state at step 20: a's frames 20-40 replaced
    c = Piece(pos[2:] + 0.5, b.boxes, b.steps)
    with pytest.warns(SupersededNote) as rec:
        stitch([a, c])
    n = rec[0].message
    assert (n.frames, n.first_step, n.last_step, n.continues_at) == (3, 20, 40, None)


def test_the_advised_reset_timestep_stitches_one_run(tmp_path):
    """The note's fix, ``reset_timestep 100`` after read_data: both segments are kept,
    one run of steps 0-200, seg0's frames as LAMMPS wrote them, and no note."""
    from ionmd.analysis.stitching import SupersededNote
    from ionmd.analysis.trajectory import read_frames

    run = run_then_resume(tmp_path / "reset", _SEG0,
                          _SEG1.replace("read_data seg0.data\n",
                                        f"read_data seg0.data\nreset_timestep {STEPS}\n"))
    assert _dcd_steps(run / "seg1.dcd") == list(range(STEPS, 2 * STEPS + 1, EVERY))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SupersededNote)
        frames, _, _ = read_frames(run / "start.data", [run / "seg0.dcd", run / "seg1.dcd"])
    alone, _, _ = read_frames(run / "start.data", run / "seg0.dcd")
    assert frames.steps.tolist() == list(range(0, 2 * STEPS + 1, EVERY))
    np.testing.assert_array_equal(frames.positions[:len(alone.steps)], alone.positions)
