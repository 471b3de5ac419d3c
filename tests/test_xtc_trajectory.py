"""LAMMPS's ``dump xtc`` read as a trajectory: absolute positions in nm to 0.001 nm and no
box origin, like a DCD, so its frames are placed about the data file's box centre
(:func:`ionmd.analysis.trajectory.box_origins`). Before, an ``.xtc`` was read as a text
dump ("'utf-8' codec can't decode byte ... not a LAMMPS dump file"). Reference: LAMMPS's
own ``dump custom`` of the same run, in a box centred at 0 under NpT (placed at origin 0,
an unwrapped XTC wrapped into ``[0, H)`` was off by a cell change for atoms near the
faces); a killed run's XTC cut inside a frame, which MDAnalysis reads silently to its
last whole frame, is refused with the command that keeps those frames."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest

from ionmd.analysis.run_analysis import analyze_run
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.box_origin import dcd_origin_note
from ionmd.analysis.trajectory import read_frames
from ionmd.errors import IonmdError
from lammps_cells import TILTED_PRISM, two_type_lj_cell
from lammps_runner import run_lmp

TYPE_MAP = {1: "Li", 2: "Cl"}
#: XTC's precision: 0.001 nm rounded to the nearest, 0.005 A (float32 on top)
XTC_RESOLUTION = 0.0051

SCRIPT = two_type_lj_cell("fcc 4.4", region="block -1.5 1.5 -1.5 1.5 -1.5 1.5") + """\
velocity all create 1500 1
write_data s.data
timestep 0.002
fix 1 all npt temp 1500 1500 0.1 iso 100000 100000 0.2
dump x all xtc 20 t.xtc
dump u all xtc 20 u.xtc
group li type 1
dump g li xtc 20 li.xtc
dump_modify u unwrap yes
dump w all custom 20 w.lammpstrj id type x y z
dump_modify w sort id format float %.17g
dump su all custom 20 su.lammpstrj id type xu yu zu
dump_modify su sort id format float %.17g
run 1000
"""


@pytest.fixture(scope="module")
def npt_run(tmp_path_factory):
    """A hot NpT run of a box centred at 0 (lo -6.6 A at the start), dumped as wrapped
    and unwrapped XTC and as the matching ``dump custom`` files."""
    workdir = tmp_path_factory.mktemp("xtc_npt")
    run_lmp(SCRIPT, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


def _frames(run, name):
    return read_frames(run / "s.data", [run / name], type_map=TYPE_MAP)[0]


@pytest.mark.parametrize("xtc, dump", [("t.xtc", "w.lammpstrj"), ("u.xtc", "su.lammpstrj")])
def test_xtc_frames_are_lammps_dump_custom_frames(npt_run, xtc, dump):
    got, ref = _frames(npt_run, xtc), _frames(npt_run, dump)
    assert np.ptp(ref.boxes[:, 0, 0]) > 0.1            # the box changes
    assert np.all(ref.origins < -5.0)                  # centred at 0, not at H / 2
    np.testing.assert_array_equal(got.steps, ref.steps)
    np.testing.assert_allclose(got.boxes, ref.boxes, atol=1e-5)
    np.testing.assert_allclose(got.origins, ref.origins, atol=1e-5)
    np.testing.assert_allclose(got.positions, ref.positions, rtol=0, atol=XTC_RESOLUTION)
    # continuous positions: the unwrapped XTC's are wrapped back into [lo, lo + H) of
    # each frame before unwrapping (LAMMPS's x + n H(t) under NpT), as the dump's are
    np.testing.assert_allclose(got.unwrapped(), ref.unwrapped(), rtol=0,
                               atol=3 * XTC_RESOLUTION)


def test_xtc_origin_note_names_xtc(npt_run):
    note = dcd_origin_note([npt_run / "t.xtc"], npt_run / "s.data", [])
    assert note is not None and note.startswith("XTC stores no box origin")
    assert "instead of XTC" in note
    # the run's log shows a barostat about the centre: no note
    assert dcd_origin_note([npt_run / "t.xtc"], npt_run / "s.data",
                           [npt_run / "log.lammps"]) is None


def test_analyze_reads_an_xtc_as_its_dump_custom_twin(npt_run, tmp_path):
    results = {}
    for name in ("u.xtc", "su.lammpstrj"):
        run = tmp_path / name.split(".")[0]
        run.mkdir()
        for f in ("s.data", "log.lammps", name):
            (run / f).write_bytes((npt_run / f).read_bytes())
        (run / "run.json").write_text(json.dumps({
            "temperature_K": 1500, "timestep_fs": 2.0, "trajectory": [name],
            "type_map": {"1": "Li", "2": "Cl"}, "mobile_species": ["Li"],
            "charges": {"Li": 1, "Cl": -1}}))
        results[name] = analyze_run(load_run_spec(run), run / "analysis", fit_start_ps=0.2,
                                    window_ps=1.0)
    got, ref = results["u.xtc"], results["su.lammpstrj"]
    # the hot LJ cell melts: the same failure, and the same D before it
    assert got["failure"]["first"] == ref["failure"]["first"]
    d_got, d_ref = (r["before_failure"]["diffusion"][0] for r in (got, ref))
    assert d_got["species"] == d_ref["species"] == "Li"
    assert d_got["D"] == pytest.approx(d_ref["D"], rel=2e-3)


def test_cut_xtc_is_refused_with_the_command_that_keeps_its_whole_frames(npt_run, tmp_path):
    whole = npt_run / "t.xtc"
    cut = tmp_path / "t.xtc"
    data = whole.read_bytes()
    cut.write_bytes(data[:len(data) * 3 // 5])
    (tmp_path / "s.data").write_bytes((npt_run / "s.data").read_bytes())
    with pytest.raises(IonmdError, match="ends in the middle of a frame") as refusal:
        read_frames(tmp_path / "s.data", [cut], type_map=TYPE_MAP)
    message = str(refusal.value)
    n_whole = int(re.search(r"(\d+) whole frames are readable", message).group(1))
    command = re.search(r"\((head -c \d+ \S+ > \S+)\)", message).group(1)
    subprocess.run(command, shell=True, check=True, cwd=tmp_path)
    kept = read_frames(tmp_path / "s.data", [tmp_path / "t.whole.xtc"], type_map=TYPE_MAP)[0]
    ref = _frames(npt_run, "w.lammpstrj")
    assert 0 < n_whole < len(ref.steps)
    np.testing.assert_array_equal(kept.steps, ref.steps[:n_whole])
    np.testing.assert_allclose(kept.positions, ref.positions[:n_whole], rtol=0,
                               atol=XTC_RESOLUTION)
    assert cut.read_bytes() == data[:len(data) * 3 // 5]     # the original kept


def test_reading_an_xtc_leaves_no_files_beside_it(npt_run, tmp_path):
    """MDAnalysis's XTC reader wrote '.t.xtc_offsets.npz' and '.t.xtc_offsets.lock' into
    the run folder (a user's data, possibly read-only), with no option to keep them out."""
    for name in ("s.data", "t.xtc"):
        (tmp_path / name).write_bytes((npt_run / name).read_bytes())
    read_frames(tmp_path / "s.data", [tmp_path / "t.xtc"], type_map=TYPE_MAP)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.data", "t.xtc"]


def test_an_xtc_of_a_group_is_refused_saying_to_dump_all_atoms(npt_run):
    with pytest.raises(IonmdError, match=r"\d+ atoms in each frame, 108 in the data file; "
                                         r"dump all atoms \('dump ID all xtc"):
        read_frames(npt_run / "s.data", [npt_run / "li.xtc"], type_map=TYPE_MAP)


TRICLINIC = two_type_lj_cell("fcc 4.4", region=TILTED_PRISM) + """\
velocity all create 1500 1
write_data s.data
timestep 0.002
fix 1 all npt temp 1500 1500 0.1 tri 0 0 0.2
dump x all xtc 20 t.xtc
dump w all custom 20 w.lammpstrj id type x y z
dump_modify w sort id format float %.17g
run 200
"""


def test_a_triclinic_npt_xtc_is_its_dump_custom_twin(tmp_path):
    run_lmp(TRICLINIC, tmp_path, env={"OMP_NUM_THREADS": "1"})
    got, ref = _frames(tmp_path, "t.xtc"), _frames(tmp_path, "w.lammpstrj")
    assert abs(ref.boxes[0, 1, 0]) > 1.0 and abs(ref.boxes[0, 2, 0]) > 0.5   # tilted
    assert np.ptp(ref.boxes[:, 1, 0]) > 0.5                 # and the tilt changes
    np.testing.assert_array_equal(got.steps, ref.steps)
    np.testing.assert_allclose(got.boxes, ref.boxes, atol=XTC_RESOLUTION)
    np.testing.assert_allclose(got.positions, ref.positions, rtol=0, atol=XTC_RESOLUTION)
    np.testing.assert_allclose(got.unwrapped(), ref.unwrapped(), rtol=0,
                               atol=3 * XTC_RESOLUTION)
