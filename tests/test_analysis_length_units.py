"""A LAMMPS run whose input echoes ``units`` with lengths other than Å (electron: Bohr; lj:
sigma; si, cgs, micro, nano) is refused by ``ionmd analyze``, naming the unit: its data file
and dump are in that unit, which the analysis read as Å (a run in ``units electron`` gave D
3.57x and sigma 0.53x their values, without a word). ``units real`` (Å, fs) is analysed as
``units metal`` is. Reference: the same frames under ``units metal`` (Å by LAMMPS's units
page), whose D the synthetic walk's true D checks in tests/test_analysis_foreign_trajectories.py."""

from __future__ import annotations

import json

import pytest

import test_analysis_foreign_trajectories as foreign
from ionmd.cli import main

STEP_IN = {"metal": 0.002, "real": 2.0, "electron": 2.0, "lj": 0.005, "nano": 2e-6}


@pytest.fixture(scope="module")
def walk():
    return foreign._walk(1000, n_frames=120, n_li=8)


def hand_run(root, units, walk):
    """The walk's frames as a hand run (no timestep in run.json) whose log echoes ``units``."""
    d = root / units
    foreign._lammps_dir(d, 1000, *walk)
    meta = json.loads((d / "run.json").read_text())
    del meta["timestep_fs"], meta["temperature_K"]
    (d / "run.json").write_text(json.dumps({**meta, "discard_ps": 1.0}))
    (d / "log.lammps").write_text(
        f"LAMMPS (2 Aug 2023)\nunits {units}\nread_data struct.data\ntimestep {STEP_IN[units]}\n"
        f"fix 1 all nvt temp 1000 1000 0.1\n"
        f"dump d all custom {foreign.EVERY} md.dump id type x y z\nrun {119 * foreign.EVERY}\n")
    return d


def d_xyz(run) -> float:
    res = json.loads((run / "analysis" / "results.json").read_text())
    assert res["timestep_fs"] == pytest.approx(2.0)
    (d,) = [x for x in res["diffusion"] if x["direction"] == "xyz" and x["species"] == "Li"]
    return d["D"]


def test_real_units_are_read_as_metal_ones(tmp_path, walk):
    runs = {u: hand_run(tmp_path, u, walk) for u in ("metal", "real")}
    for run in runs.values():
        assert main(["analyze", str(run), *foreign.POINT_IONS]) == 0
    assert d_xyz(runs["real"]) == pytest.approx(d_xyz(runs["metal"]), rel=1e-12)


@pytest.mark.parametrize("units, length", [("electron", "Bohr"), ("lj", "σ"), ("nano", "nm")])
def test_lengths_not_in_angstrom_are_refused(tmp_path, walk, capsys, units, length):
    run = hand_run(tmp_path, units, walk)
    flags = ["--timestep-fs", "2"] if units == "lj" else []     # lj's time is no fs either
    assert main(["analyze", str(run), *foreign.POINT_IONS, *flags]) != 0
    err = capsys.readouterr().err
    assert f"units {units}: {length}" in err and "lengths not in Å" in err, err
    assert "run in units metal" in err
    assert not (run / "analysis" / "results.json").exists()
