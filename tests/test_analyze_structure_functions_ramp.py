"""`ionmd analyze --structure-functions` on a ramp run (run.json ``temperature_end_K``: no
D nor sigma, ``no_transport``) wrote no rdf.csv, van_hove.csv nor density file and said
nothing of it. A structure function over a ramp is still a well-defined average over its
frames, but of a mixture of temperatures: it is written, with ``structure_functions_note``
saying so.

Synthetic run (tests/test_analyze_structure_functions_failed_run.py's: 32 Cl on an fcc
lattice and 4 Li, vibrating; here none collapses, 160 frames); reference: g(r) counted by
hand over every periodic image of the frames rdf.csv takes (every 2nd: at most 100).
"""

from __future__ import annotations

import csv
import itertools
import json

import numpy as np

from ionmd.cli import main
from test_analyze_structure_functions_failed_run import A, N_FRAMES, _g_by_hand, _write_run


def _frames(rng) -> np.ndarray:
    fcc = np.array([[0, 0, 0], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]])
    cells = np.array(list(itertools.product(range(2), repeat=3)))
    cl = ((cells[:, None] + fcc[None]).reshape(-1, 3)) * A
    li = cl[[0, 9, 18, 27]] + [A / 2, 0, 0]
    return np.concatenate([li, cl])[None] + 0.12 * rng.standard_normal((N_FRAMES, 36, 3))


def test_a_ramp_gets_its_structure_functions_with_a_note_that_they_mix_temperatures(tmp_path):
    pos = _frames(np.random.default_rng(2))
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
    rows = list(csv.reader(open(out / "rdf.csv")))
    table = np.array(rows[1:], float)
    edges = np.linspace(0, 6, 61)
    by_species = {"Li": pos[:, :4], "Cl": pos[:, 4:]}
    for name, a, b in (("g_ClLi", "Cl", "Li"), ("g_LiLi", "Li", "Li")):
        frames = [(by_species[a][t], by_species[b][t]) for t in range(0, N_FRAMES, 2)]
        np.testing.assert_allclose(table[:, rows[0].index(name)], _g_by_hand(frames, a, b, edges),
                                   atol=1e-9, err_msg=name)
