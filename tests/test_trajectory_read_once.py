"""One analysis reads what it needs once.

A DCD run's logs: ``read_logs`` read their texts for the failure checks and
``dcd_origin_of`` read them again for the box-origin note (two reads of every log per
analysis: ~20 ms and a second copy in memory for a 4 MB log); the note now takes the texts
``read_logs`` read. Counted at ``Path.read_text`` on a real LAMMPS run (108 LJ atoms under
``fix deform ... final`` off the centre), the note checked against the input line that
moves the centre.

An ASE run without logs: its frames come from one cached read (:func:`read_ase`) for the
spec's timing, the frames and the kinetic temperatures alike; ``read_ase_frames`` then
copied the cached positions before :func:`stitch`, which copies the frames it keeps
anyway: a third copy of the positions at the peak (tracemalloc, 200 frames of 64 atoms:
3.2x the positions, now 2.2x)."""

from __future__ import annotations

import json
import pathlib
import tracemalloc

import numpy as np
import pytest
from ase import Atoms
from ase.io import write
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

import ionmd.analysis.ase_frames as ase_frames
from ionmd.analysis.run_analysis import analyze_run
from ionmd.analysis.run_spec import load_run_spec
from lammps_runner import LJ_DCD_RUN_JSON, lj_dcd_run

DEFORM = "fix 2 all deform 1 x final 0.0 11.0 remap x units box"


@pytest.fixture(scope="module")
def dcd_run(tmp_path_factory):
    """A DCD run whose log echoes a command moving the box centre (the cell spans 0 to
    13.2 A in x; the deform takes it to 0-11 A)."""
    run = tmp_path_factory.mktemp("dcd")
    lj_dcd_run(run, extra=DEFORM)
    (run / "run.json").write_text(json.dumps(LJ_DCD_RUN_JSON))
    return run


def test_a_dcd_runs_logs_are_read_once_per_analysis(dcd_run, tmp_path, monkeypatch):
    """From the run's spec to its results (252d494 keeps the texts on the spec)."""
    reads = []          # Path.read_text opens through Path.open: counted there
    path_open, builtin_open = pathlib.Path.open, open

    def counted(original):
        def read(self, *args, **kwargs):
            if pathlib.Path(self).name == "log.lammps":
                reads.append(self)
            return original(self, *args, **kwargs)
        return read

    monkeypatch.setattr(pathlib.Path, "open", counted(path_open))
    monkeypatch.setattr("builtins.open", counted(builtin_open))
    spec = load_run_spec(dcd_run)
    assert spec.logs == [dcd_run / "log.lammps"]
    results = analyze_run(spec, tmp_path / "out", fit_start_ps=0.1)
    assert len(reads) == 1, reads
    # the one read feeds the origin note: it names the input line that moves the centre
    assert DEFORM in results["dcd_origin"]


def _extxyz_run(folder, n_frames=200, n_atoms=64, seed=0):
    """An extended XYZ of Li walking through a vibrating Cl lattice, with momenta of 1000 K,
    no logs; timing in run.json."""
    rng = np.random.default_rng(seed)
    box = 12.0
    sites = 3.0 * np.stack(np.meshgrid(*[np.arange(4)] * 3, indexing="ij"), -1).reshape(-1, 3)
    symbols = np.where(sites.sum(axis=1) % 6 == 0, "Li", "Cl")[:n_atoms]
    steps = rng.normal(0, 0.02, (n_frames, n_atoms, 3))
    moved = np.where((symbols == "Li")[:, None], np.cumsum(steps, axis=0), steps)
    pos = np.mod(sites[:n_atoms] + moved, box)
    images = []
    for p in pos:
        atoms = Atoms(symbols.tolist(), positions=p, cell=[box] * 3, pbc=True)
        MaxwellBoltzmannDistribution(atoms, temperature_K=1000, rng=rng)
        images.append(atoms)
    folder.mkdir()
    write(folder / "md.extxyz", images, format="extxyz")
    (folder / "run.json").write_text(json.dumps({
        "trajectory": ["md.extxyz"], "temperature_K": 1000, "timestep_fs": 2.0,
        "dump_every": 10, "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1},
        "discard_ps": 0.2}))
    return pos


def test_an_ase_runs_frames_are_read_once_and_not_copied_again(tmp_path, monkeypatch):
    pos = _extxyz_run(tmp_path / "run")
    spec = load_run_spec(tmp_path / "run")      # reads the frames (timing), cached
    assert spec.trajectory_format and not spec.logs
    reads = []
    read_one = ase_frames._read_one
    monkeypatch.setattr(ase_frames, "_read_one",
                        lambda path, fmt: reads.append(path) or read_one(path, fmt))
    results = analyze_run(spec, tmp_path / "out", fit_start_ps=0.1,
                          failure_options={"collapse_fraction": 0.01})
    assert reads == [] and results["diffusion"], results["failure"]

    tracemalloc.start()
    try:
        frames, _, _ = ase_frames.read_ase_frames(spec.trajectory, spec.trajectory_format,
                                                  spec.dump_every)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reads == []
    # the frames as written (extended XYZ keeps them to its printed digits)
    np.testing.assert_allclose(frames.positions, pos, rtol=0, atol=1e-6)
    # stitch's own copies: the kept frames and their concatenation (old: 3.2x)
    assert peak < 2.5 * frames.positions.nbytes, peak / frames.positions.nbytes
