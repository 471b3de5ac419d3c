"""`ionmd run` and `ionmd status` end to end on a tiny SevenNet (tiny_f64) and a
rock-salt LiCl cell read from a POSCAR; the run directories feed ionmd.analysis."""

from __future__ import annotations

import json

import numpy as np
from ase.build import bulk
from ase.io import write

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_lammps_trajectory
from ionmd.cli import main


def test_run_and_status(tmp_path, tiny_f64, capsys):
    write(tmp_path / "POSCAR", bulk("LiCl", "rocksalt", a=5.14, cubic=True), format="vasp")
    out = tmp_path / "runs"
    argv = ["run", "conductivity", str(tmp_path / "POSCAR"), "--model", str(tiny_f64),
            "--temps", "600:700:100", "--time", "40fs", "--supercell", "none", "-o", str(out),
            "--set", "dump_every=10", "--set", "thermo_every=10", "--set", "restart_every=20",
            "--set", "discard_ps=0.01", "--name", "LiCl", "--no-progress"]
    assert main(argv) == 0
    assert main(["status", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("completed") >= 4            # run summary + status table, two runs each
    dirs = sorted(p.parent for p in out.rglob("status.json"))
    assert [d.relative_to(out).as_posix() for d in dirs] == [
        "LiCl/tiny_f64/conductivity/T600K/r0", "LiCl/tiny_f64/conductivity/T700K/r0"]
    for d, temp in zip(dirs, (600.0, 700.0)):
        status = json.loads((d / "status.json").read_text())
        assert status["state"] == "completed" and status["step"] == 40
        spec = load_run_spec(d)
        assert spec.temperature_K == temp and spec.timestep_fs == 1.0 and spec.dump_every == 10
        traj = read_lammps_trajectory(spec.data_file, spec.trajectory, timestep_fs=1.0,
                                      type_map=spec.type_map)
        np.testing.assert_array_equal(traj.steps, [0, 10, 20, 30, 40])
        assert sorted(set(traj.elements)) == ["Cl", "Li"]
        # pair_coeff order = data-file types: elements from the masses agree with type_map
        by_mass = read_lammps_trajectory(spec.data_file, spec.trajectory, timestep_fs=1.0)
        assert list(by_mass.elements) == list(traj.elements)
        order = " ".join(spec.type_map[t] for t in sorted(spec.type_map))
        assert f"pair_coeff      * * {order}\n" in (d / "in.0.lmp").read_text()
    # the same command again: everything is completed, nothing reruns
    mtime = (dirs[0] / "log.0.lammps").stat().st_mtime_ns
    assert main(argv) == 0
    assert (dirs[0] / "log.0.lammps").stat().st_mtime_ns == mtime
    # other settings in the same place are refused with a message
    assert main(argv + ["--set", "timestep_fs=2"]) == 1
    assert "other settings" in capsys.readouterr().err


def test_dry_run_summary_says_where_a_ramp_goes(tmp_path, tiny_f64, capsys):
    """The stability and pressure-ramp presets ramp their target over the run; the summary
    printed before anything runs said only the start (300 K: 50 ps ...)."""
    from ionmd.protocols import get_protocol

    write(tmp_path / "POSCAR", bulk("LiCl", "rocksalt", a=5.14, cubic=True), format="vasp")
    for name, expected in (("stability", "to {temperature_end:g} K"),
                           ("pressure-ramp", "to {pressure_end_bar:g} bar")):
        argv = ["run", name, str(tmp_path / "POSCAR"), "--model", str(tiny_f64), "--dry-run",
                "--supercell", "none", "-o", str(tmp_path / name)]
        assert main(argv) == 0
        preset = get_protocol(name)
        assert expected.format(**vars(preset)) in capsys.readouterr().out
