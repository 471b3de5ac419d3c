"""`ionmd analyze --structure-functions` on a run with no D wrote no rdf.csv, van_hove.csv
nor density file, and said nothing of it (results.json named none):

* a run that failed: the structure of a run that melted or collapsed is what one looks at.
  They are now those of the frames before the failure, as its transport
  (``before_failure``) is;
* a ramp run (run.json ``temperature_end_K``: no D nor sigma, ``no_transport``): a structure
  function over a ramp is still a well-defined average over its frames, but of a mixture of
  temperatures: it is written, with ``structure_functions_note`` saying so.

Synthetic runs (numpy-built frames written as a LAMMPS dump: 32 Cl on an fcc lattice and 4
Li, vibrating, 160 frames; in the failed run a Li pushed onto a Cl at frame 120, a collapsed
distance); reference: g(r) counted by hand over every periodic image of the frames rdf.csv
takes (every 2nd: at most 100; in the failed run, of the 120 before the failure).
"""

from __future__ import annotations

import csv
import itertools
import json

import numpy as np
from ase import Atoms
from ase.io import write

from ionmd.cli import main

A, L, N_FRAMES, FAIL = 5.14, 10.28, 160, 120


def _frames(rng, collapse: bool) -> np.ndarray:
    """4 Li and 32 Cl vibrating (0.12 A) about their sites; with ``collapse`` a Li onto a
    Cl from frame FAIL on."""
    fcc = np.array([[0, 0, 0], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]])
    cells = np.array(list(itertools.product(range(2), repeat=3)))
    cl = ((cells[:, None] + fcc[None]).reshape(-1, 3)) * A
    li = cl[[0, 9, 18, 27]] + [A / 2, 0, 0]
    pos = np.concatenate([li, cl])[None] + 0.12 * rng.standard_normal((N_FRAMES, 36, 3))
    if collapse:
        pos[FAIL:, 3] = pos[FAIL:, 4] + [0.4, 0, 0]       # onto a Cl: collapsed
    return pos


def _write_run(folder, pos) -> None:
    folder.mkdir()
    els = ["Li"] * 4 + ["Cl"] * 32
    write(folder / "struct.data", Atoms(els, positions=pos[0] % L, cell=[L] * 3, pbc=True),
          format="lammps-data", specorder=["Cl", "Li"], masses=True, atom_style="atomic")
    with open(folder / "md.dump", "w") as fh:
        for t, frame in enumerate(pos % L):
            fh.write(f"ITEM: TIMESTEP\n{t * 50}\nITEM: NUMBER OF ATOMS\n36\n"
                     f"ITEM: BOX BOUNDS pp pp pp\n" + f"0 {L}\n" * 3 + "ITEM: ATOMS id type x y z\n")
            fh.writelines(f"{i + 1} {2 if e == 'Li' else 1} {x:.6f} {y:.6f} {z:.6f}\n"
                          for i, (e, (x, y, z)) in enumerate(zip(els, frame)))
    rows = "".join(f"{s} 600.0\n" for s in range(0, N_FRAMES * 50, 50))
    (folder / "log.lammps").write_text("   Step          Temp\n" + rows)
    (folder / "run.json").write_text(json.dumps({
        "schema": "ionmd-run/1", "temperature_K": 600.0, "timestep_fs": 1.0, "dump_every": 50,
        "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1}, "structure": "synthetic"}))


def _g_by_hand(frames, a, b, edges) -> np.ndarray:
    """g_ab(r) over every periodic image within r_max (6 A > L / 2), N_a (N_b - d_ab)
    pairs per frame, averaged over the frames."""
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=3))) * L
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    g = np.zeros(len(edges) - 1)
    for pa, pb in frames:
        d = np.linalg.norm(pb[None, None] + shifts[:, None, None] - pa[None, :, None], axis=-1)
        if a == b:      # the atom itself (zero shift, same index) left out, its images kept
            d[len(shifts) // 2, np.arange(len(pa)), np.arange(len(pa))] = np.inf
        g += np.histogram(d.ravel(), bins=edges)[0] * L ** 3 / (
            len(pa) * (len(pb) - (a == b)) * shell)
    return g / len(frames)


def _assert_rdf_by_hand(out, pos, frames_taken) -> None:
    """rdf.csv's g_ClLi and g_LiLi against :func:`_g_by_hand` over ``frames_taken``."""
    rows = list(csv.reader(open(out / "rdf.csv")))
    table = np.array(rows[1:], float)
    edges = np.linspace(0, 6, 61)
    by_species = {"Li": pos[:, :4], "Cl": pos[:, 4:]}
    for name, a, b in (("g_ClLi", "Cl", "Li"), ("g_LiLi", "Li", "Li")):
        frames = [(by_species[a][t], by_species[b][t]) for t in frames_taken]
        np.testing.assert_allclose(table[:, rows[0].index(name)], _g_by_hand(frames, a, b, edges),
                                   atol=1e-9, err_msg=name)


def test_a_failed_run_gets_the_structure_functions_of_its_frames_before_the_failure(tmp_path):
    pos = _frames(np.random.default_rng(1), collapse=True)
    run = tmp_path / "run"
    _write_run(run, pos)
    assert main(["analyze", str(run), "--structure-functions", "--fit-start-ps", "0.3"]) in (0, None)
    out = run / "analysis"
    results = json.loads((out / "results.json").read_text())
    assert results["failure"]["modes"] == ["collapsed_distance"]
    assert results["failure"]["first"]["step"] == FAIL * 50
    assert {"rdf.csv", "van_hove.csv", "density_Li.cube"} <= set(results["outputs"])
    _assert_rdf_by_hand(out, pos, range(0, FAIL, 2))


def test_a_ramp_gets_its_structure_functions_with_a_note_that_they_mix_temperatures(tmp_path):
    pos = _frames(np.random.default_rng(2), collapse=False)
    run = tmp_path / "ramp"
    _write_run(run, pos)
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "temperature_K": 300.0,
                                              "temperature_end_K": 900.0}))
    assert main(["analyze", str(run), "--structure-functions"]) in (0, None)
    out = run / "analysis"
    results = json.loads((out / "results.json").read_text())
    assert results["failure"]["failed"] is False
    assert results["diffusion"] == [] and "ramped from 300 to 900 K" in results["no_transport"]
    assert {"rdf.csv", "van_hove.csv", "density_Li.cube"} <= set(results["outputs"])
    note = results["structure_functions_note"]
    assert "300 K towards 900 K" in note and "of no one temperature" in note
    _assert_rdf_by_hand(out, pos, range(0, N_FRAMES, 2))
