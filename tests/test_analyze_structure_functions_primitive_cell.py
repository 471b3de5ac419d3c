"""``ionmd analyze --structure-functions`` on a trajectory in ASE's primitive fcc vectors
(rock-salt LiCl, 2x2x2 primitive cells: every diagonal element of the cell is 0). The
report asked for g(r) up to ``min(6, 0.49 x the cell's smallest diagonal element)`` = 0 A,
refused ("r_max must be positive"); it now goes to 6 A, pairs counted over every periodic
image (the cell's faces are 5.9 A apart), checked against ASE's neighbour list. A van Hove
lag between two frames is refused before the transport analysis, naming the lags there
are (before: after the MSD work, which wrote diffusion.csv first)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write
from ase.neighborlist import neighbor_list

from ionmd.cli import main

N_FRAMES, FRAME_PS = 12, 0.1
TIMING = ["--temperature", "800", "--timestep-fs", "2", "--dump-every", "50",
          "--charges", "Li=1,Cl=-1", "--collapse-fraction", "0.01", "--fit-start-ps", "0.2"]


@pytest.fixture(scope="module")
def primitive_run(tmp_path_factory):
    """Frames of a 16-atom primitive-vector LiCl cell: Cl rattled about its sites, Li
    walking 0.25 A a frame; ``(folder, frames)``."""
    cell = bulk("LiCl", "rocksalt", a=5.14).repeat((2, 2, 2))
    assert np.all(np.diag(cell.cell) == 0)
    rng = np.random.default_rng(5)
    li = cell.symbols == "Li"
    frames, walk = [], np.zeros((li.sum(), 3))
    for _ in range(N_FRAMES):
        atoms = cell.copy()
        atoms.positions += rng.normal(0, 0.08, atoms.positions.shape)
        atoms.positions[li] += walk
        walk += rng.normal(0, 0.25 / np.sqrt(3), walk.shape)
        frames.append(atoms)
    run = tmp_path_factory.mktemp("primitive") / "LiCl"
    run.mkdir()
    write(run / "md.extxyz", frames, format="extxyz")
    return run, frames


def _ase_rdf(frames, a: str, b: str, edges: np.ndarray) -> np.ndarray:
    """g_ab(r) from ASE's neighbour list (every image within r_max), each frame by its
    volume with N_a (N_b - delta_ab) pairs, as LAMMPS's compute rdf normalises it."""
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    g = np.zeros(len(edges) - 1)
    for atoms in frames:
        i, j, d = neighbor_list("ijd", atoms, edges[-1])
        sym = atoms.get_chemical_symbols()
        keep = [sym[x] == a and sym[y] == b for x, y in zip(i, j)]
        na, nb = sym.count(a), sym.count(b)
        g += (np.histogram(d[keep], bins=edges)[0] * atoms.get_volume()
              / (na * (nb - (a == b)) * shell))
    return g / len(frames)


def _columns(path) -> dict[str, np.ndarray]:
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return {name: np.array([float(r[k]) for r in rows[1:]]) for k, name in enumerate(rows[0])}


def test_primitive_cell_gets_g_of_r_to_6_angstrom(primitive_run, tmp_path):
    run, frames = primitive_run
    out = tmp_path / "out"
    assert main(["analyze", str(run), "-o", str(out), *TIMING, "--structure-functions"]) == 0
    folder = next(out.rglob("rdf.csv")).parent
    rdf = _columns(folder / "rdf.csv")
    r = rdf["r_A"]
    assert len(r) == 60 and r[-1] == pytest.approx(5.95)
    edges = np.linspace(0, 6.0, 61)
    for a, b in (("Cl", "Cl"), ("Cl", "Li"), ("Li", "Li")):
        np.testing.assert_allclose(rdf[f"g_{a}{b}"], _ase_rdf(frames, a, b, edges),
                                   rtol=1e-6, atol=1e-6)
    # Cl only rattled: its first shell at a / sqrt(2) = 3.63 A, its second (5.14 A)
    # beyond half the 5.93 A between the cell's faces, where a minimum image loses pairs
    cl = rdf["g_ClCl"]
    assert cl[r < 3.0].max() == 0 and cl[(r > 4.8) & (r < 5.5)].max() > 2
    hove = _columns(folder / "van_hove.csv")
    assert hove["r_A"][-1] == pytest.approx(5.95)
    assert all(np.isfinite(v).all() for v in hove.values())


def test_a_lag_between_frames_is_refused_before_the_transport(primitive_run, tmp_path, capsys):
    run, _ = primitive_run
    out = tmp_path / "out"
    rc = main(["analyze", str(run), "-o", str(out), *TIMING, "--structure-functions",
               "--van-hove-lags-ps", "0.2,0.15"])
    said = capsys.readouterr()
    assert rc != 0
    message = said.err + said.out
    assert "0.15" in message and "whole number of frames" in message
    assert "0.1, 0.2, 0.3, 0.4, ..." in message and "up to 1.1 ps" in message
    assert not list(out.rglob("diffusion.csv"))          # no MSD work before it
