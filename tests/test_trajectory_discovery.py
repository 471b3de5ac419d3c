"""The trajectory of a run folder that names none (``ionmd analyze RUN`` without
``--trajectory``): a LAMMPS ``dump xtc`` is found as a ``dump custom`` is (before, a folder
holding only ``md.xtc`` was refused with "no trajectory"), and the refusal of a folder
without any names every name that is looked for (it listed ``*.dcd`` and the ASE names,
not the dump names nor ``*.xtc``). Reference: LAMMPS's own ``dump custom`` of the same run,
and the names the user is told to use, each found in a folder holding only it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ionmd.analysis.run_files import found_trajectory
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from ionmd.errors import AnalysisError
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

#: XTC's precision: 0.001 nm rounded to the nearest, 0.005 A (float32 on top)
XTC_RESOLUTION = 0.0051

SCRIPT = two_type_lj_cell("fcc 4.4", region="block 0 3 0 3 0 3") + """\
velocity all create 1000 1
write_data s.data
timestep 0.002
fix 1 all nvt temp 1000 1000 0.1
dump x all xtc 20 md.xtc
dump w all custom 20 ../w.lammpstrj id type x y z
dump_modify w sort id format float %.17g
run 400
"""

#: The names the docs and run.json's schema promise (DCD pieces; dump custom/atom, plain
#: or gzipped, and dump xtc; the files ASE reads)
PROMISED = {"*.dcd", "*.dump", "*.lammpstrj", "dump.*", "*.dump.gz", "*.lammpstrj.gz",
            "*.dump.bz2", "*.lammpstrj.bz2", "*.dump.xz", "*.lammpstrj.xz",
            "*.xtc", "XDATCAR", "*.extxyz", "*.xyz", "*.traj"}


@pytest.fixture(scope="module")
def xtc_run(tmp_path_factory):
    """A hand run (no run.json) whose folder holds its data file, log and ``md.xtc``; its
    ``dump custom`` twin is written beside the folder."""
    run = tmp_path_factory.mktemp("xtc_hand") / "LiCl" / "1000K"
    run_lmp(SCRIPT, run, env={"OMP_NUM_THREADS": "1"})
    (run / "in.lmp").unlink()
    return run


def test_hand_run_with_an_xtc_is_analysed_without_trajectory(xtc_run, tmp_path):
    from ionmd.cli import main

    spec = load_run_spec(xtc_run)
    assert spec.trajectory == [xtc_run / "md.xtc"]
    assert (spec.timestep_fs, spec.temperature_K) == (2.0, 1000.0)
    type_map = {1: "Li", 2: "Cl"}
    got = read_frames(xtc_run / "s.data", spec.trajectory, type_map=type_map)[0]
    ref = read_frames(xtc_run / "s.data", [xtc_run.parent / "w.lammpstrj"],
                      type_map=type_map)[0]
    np.testing.assert_array_equal(got.steps, ref.steps)
    np.testing.assert_allclose(got.positions, ref.positions, rtol=0, atol=XTC_RESOLUTION)

    out = tmp_path / "analysis"
    assert main(["analyze", str(xtc_run), "-o", str(out), "--charges", "Li=1,Cl=-1"]) in (0, None)
    results = json.loads((out / "1000K" / "results.json").read_text())
    assert results["trajectory"] == ["md.xtc"]
    assert (results["timestep_fs"], results["temperature_K"]) == (2.0, 1000.0)
    assert results["failure"]["run_end_step"] == ref.steps[-1]


def test_xtc_beside_a_dump_custom_is_refused_naming_both(xtc_run, tmp_path):
    for name in ("md.xtc", "s.data", "log.lammps"):
        (tmp_path / name).write_bytes((xtc_run / name).read_bytes())
    (tmp_path / "w.lammpstrj").write_bytes((xtc_run.parent / "w.lammpstrj").read_bytes())
    with pytest.raises(AnalysisError, match=r"several dump files \(md.xtc, w.lammpstrj\)"):
        load_run_spec(tmp_path)


def _names_said(folder) -> set[str]:
    with pytest.raises(AnalysisError, match="no trajectory") as refusal:
        load_run_spec(folder)
    said = re.search(r"no trajectory \((.*)\); list it", str(refusal.value)).group(1)
    return set(re.findall(r"[\w.]*\*[\w.*]*|XDATCAR", said))


def test_refusal_of_a_folder_without_trajectory_names_what_is_found(tmp_path):
    (tmp_path / "s.data").write_text("")
    names = _names_said(tmp_path)
    assert names == PROMISED
    for pattern in names:                       # each name said is one discovery takes
        folder = tmp_path / re.sub(r"\W", "_", pattern)
        folder.mkdir()
        file = folder / pattern.replace("*", "md")
        file.write_text("")
        assert found_trajectory(folder) == [file], pattern
