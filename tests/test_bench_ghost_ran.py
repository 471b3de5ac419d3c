"""`ionmd bench` records the ghost mode each point ran in, not the 'auto' it asked for: on
several ranks pair_style ionmd's auto is a redundant ghost shell for a model file without
per-layer stages and a halo exchange for a staged one (its own init line says which). The
table showed 'auto' for both."""

import pytest

from contract_models import save_toy_models

from ionmd.bench import default_cell, supercell_for
from ionmd.bench.points import BenchResult
from ionmd.bench.report import table
from ionmd.bench.run import run_point


@pytest.mark.mpi
def test_auto_on_two_ranks_shows_the_mode_that_ran(tmp_path):
    plain, staged = save_toy_models(tmp_path)
    atoms = supercell_for(default_cell(), 64)
    points = {}
    for name, model, says in (("plain", plain, "redundant ghost shell of"),
                              ("staged", staged, "halo exchange between")):
        work = tmp_path / name
        points[name] = run_point(model, atoms, 2, work, steps=0, ghost="auto")
        assert says in (work / "screen.txt").read_text()     # the plugin's own account
    assert points["plain"].ghost == "auto (redundant)"
    assert points["staged"].ghost == "auto (halo)"
    serial = run_point(plain, atoms, 1, tmp_path / "serial", steps=0, ghost="auto")
    assert serial.ghost == "auto"           # one rank: ghosts mapped to owners, no shell
    result = BenchResult(model=str(plain), structure="LiCl", device="cpu", ghost="auto",
                         points=[serial, points["plain"]], status="finished")
    row = table(result).splitlines()[3]       # heading, titles, serial
    assert row.split()[:3] == ["64", "2", "1"] and "auto (redundant)" in row
