"""``ionmd analyze --structure-functions`` computed g(r) on every frame, pairs over every
periodic image: 1.7 s a frame for a 4000-atom four-element cell, 28 min for 1000 frames.
rdf.csv now averages every k-th frame, at most ``RDF_MAX_FRAMES`` (100) of them: checked
against ASE's neighbour list on those frames of a 250-frame run (every 3rd: 84)."""

from __future__ import annotations

import csv

import numpy as np
from ase.build import bulk
from ase.io import write
from ase.neighborlist import neighbor_list

from ionmd.cli import main

N_FRAMES = 250
TIMING = ["--temperature", "800", "--timestep-fs", "2", "--dump-every", "50",
          "--charges", "Li=1,Cl=-1", "--collapse-fraction", "0.01", "--fit-start-ps", "1"]


def _frames():
    """A 16-atom LiCl cell, every atom rattled afresh each frame (frames differ)."""
    cell = bulk("LiCl", "rocksalt", a=5.14, cubic=True).repeat((1, 1, 2))
    rng = np.random.default_rng(11)
    li = cell.symbols == "Li"
    walk, frames = np.zeros((li.sum(), 3)), []
    for _ in range(N_FRAMES):
        atoms = cell.copy()
        atoms.positions += rng.normal(0, 0.25, atoms.positions.shape)
        atoms.positions[li] += walk
        walk += rng.normal(0, 0.1, walk.shape)
        frames.append(atoms)
    return frames


def _ase_rdf_per_frame(frames, pairs, edges: np.ndarray) -> dict:
    """g_ab(r) of each frame from ASE's neighbour list, by the frame's volume with
    N_a (N_b - d_ab) pairs (LAMMPS's compute rdf normalisation): ``{(a, b): (frames,
    bins)}``, one neighbour list a frame for all ``pairs``."""
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    g = {pair: np.zeros((len(frames), len(edges) - 1)) for pair in pairs}
    for k, atoms in enumerate(frames):
        i, j, d = neighbor_list("ijd", atoms, edges[-1])
        sym = np.array(atoms.get_chemical_symbols())
        for a, b in pairs:
            keep = (sym[i] == a) & (sym[j] == b)
            na, nb = (sym == a).sum(), (sym == b).sum()
            g[a, b][k] = (np.histogram(d[keep], bins=edges)[0] * atoms.get_volume()
                          / (na * (nb - (a == b)) * shell))
    return g


def test_rdf_averages_every_third_frame_of_250(tmp_path):
    frames = _frames()
    run = tmp_path / "LiCl"
    run.mkdir()
    write(run / "md.extxyz", frames, format="extxyz")
    out = tmp_path / "out"
    assert main(["analyze", str(run), "-o", str(out), *TIMING, "--structure-functions"]) == 0
    with open(next(out.rglob("rdf.csv"))) as fh:
        rows = list(csv.reader(fh))
    got = {name: np.array([float(r[k]) for r in rows[1:]]) for k, name in enumerate(rows[0])}
    edges = np.linspace(0, 6.0, 61)
    pairs = (("Cl", "Cl"), ("Cl", "Li"), ("Li", "Li"))
    per_frame = _ase_rdf_per_frame(frames, pairs, edges)
    for a, b in pairs:
        expected = per_frame[a, b][::3].mean(axis=0)    # ceil(250 / 100) = 3: 84 frames
        # the frames differ: the test tells 84 frames from 250
        assert np.abs(expected - per_frame[a, b].mean(axis=0)).max() > 1e-3
        np.testing.assert_allclose(got[f"g_{a}{b}"], expected, rtol=1e-6, atol=1e-6)
