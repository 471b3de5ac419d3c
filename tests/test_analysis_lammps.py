"""A real LAMMPS run (plugin + SevenNet-0 float32, 8-atom LiCl, 1500 K NVT, 2 x 30 steps: ~0.3 s a step
on 1 CPU thread, so kept short) analysed end
to end by ``ionmd analyze``: two trajectory pieces of a resumed run (the second repeats
the seam frame), DCD and ``dump custom`` read alike, no failure reported, D and sigma
with intervals, JSON/CSV/PNG written. Independent reference for the MSD: the unwrapped
coordinates LAMMPS itself writes (``dump_modify unwrap yes``, constant box)."""

import json

import numpy as np
import pytest
from ase.build import bulk

from lammps_runner import run_lmp, write_data

pytestmark = pytest.mark.slow

INPUT = """
units metal
atom_style atomic
read_data struct.data
pair_style ionmd {model}
pair_coeff * * Cl Li
velocity all create 1500 4928459 mom yes rot no dist gaussian
timestep 0.002
fix 1 all nvt temp 1500 1500 0.1
thermo_style custom step temp pe etotal vol atoms
thermo 10
dump d1 all dcd 3 md.0.dcd
dump_modify d1 unwrap yes
dump c1 all custom 3 md.0.dump id type xu yu zu
dump_modify c1 sort id
run 30
undump d1
undump c1
dump d2 all dcd 3 md.1.dcd
dump_modify d2 unwrap yes
run 30
"""


@pytest.fixture(scope="module")
def licl_run(sevennet0_f32, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("licl_run")
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.rattle(0.02, seed=1)
    write_data(atoms, run_dir / "struct.data", ["Cl", "Li"])
    run_lmp(INPUT.format(model=sevennet0_f32), run_dir, env={"OMP_NUM_THREADS": "1"})
    (run_dir / "run.json").write_text(json.dumps({
        "schema": "ionmd-run/1", "temperature_K": 1500, "timestep_fs": 2.0, "dump_every": 3,
        "discard_ps": 0.0, "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1},
        "type_map": {"1": "Cl", "2": "Li"}, "trajectory": ["md.0.dcd", "md.1.dcd"],
        "logs": ["log.lammps"], "structure": "LiCl_8"}))
    return run_dir


def test_real_run_pieces_stitch_and_match_lammps_unwrapped(licl_run):
    from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory

    traj = read_lammps_trajectory(licl_run / "struct.data",
                                  [licl_run / "md.0.dcd", licl_run / "md.1.dcd"], timestep_fs=2.0)
    assert traj.n_frames == 21  # 11 + 11 frames, the repeated step 30 dropped
    assert np.all(np.diff(traj.steps) == 3)
    raw, _, _ = read_frames(licl_run / "struct.data", [licl_run / "md.0.dcd", licl_run / "md.1.dcd"])
    # constant box: LAMMPS's unwrapped displacements are exact; ours must agree (float32 DCD)
    ours = traj.positions - traj.positions[0]
    lammps = raw.positions - raw.positions[0]
    assert np.abs(ours - lammps).max() < 1e-3
    dump = read_lammps_trajectory(licl_run / "struct.data", [licl_run / "md.0.dump"], timestep_fs=2.0)
    assert np.abs((dump.positions - dump.positions[0])
                  - (traj.positions[:11] - traj.positions[0])).max() < 1e-3
    assert list(traj.elements).count("Li") == 4


def test_ionmd_analyze_end_to_end(licl_run, capsys):
    from ionmd.cli import main

    rc = main(["analyze", str(licl_run), "--fit-start-ps", "0.02", "--structure-functions"])
    printed = capsys.readouterr().out
    print(printed)
    assert rc == 0
    out = licl_run / "analysis"
    res = json.loads((out / "results.json").read_text())
    assert res["failure"]["failed"] is False, res["failure"]
    d = res["diffusion"][0]
    assert d["species"] == "Li" and d["D_ci95"][0] <= d["D"] <= d["D_ci95"][1]
    assert d["D"] > 0
    sigma = res["conductivity"]
    assert sigma["sigma_ci95"][0] <= sigma["sigma"] <= sigma["sigma_ci95"][1]
    # 0.12 ps is far too short to be diffusive: the numbers must come with that caveat
    assert "too_few_hops" in d["flags"] and "too_few_hops" in sigma["flags"]
    for name in ("diffusion.csv", "msd.png", "density_Li.cube", "rdf.csv", "van_hove.csv"):
        assert (out / name).stat().st_size > 0
    assert "D(Li, xyz)" in printed
