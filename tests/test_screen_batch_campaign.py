"""``ionmd screen --top N`` writes a campaign ``ionmd sweep`` runs as it is, on the cells
that were screened. It named each structure's input file: a disordered file screened with
--order (the sweep refused its partial occupancies, and ordering it again there need not
give the screened cell), or a file of several structures (refused: "holds 2 structures").
Now such structures are written to OUT/structures and the campaign runs those files."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import yaml
from ase.build import bulk
from ase.io import read, write
from ionmd.cli import main
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.io.cif import CifWriter

ORDER = ["--order", "random", "--order-seed", "3"]


@pytest.fixture(scope="module")
def screened(tiny_f64, tmp_path_factory):
    """A disordered rock salt (Li0.5Na0.5Cl), a file of two LiCl cells and a plain LiCl
    file, screened with --top 4; returns the folder of inputs and the campaign."""
    folder = tmp_path_factory.mktemp("campaign")
    mixed = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.4), [{"Li": 0.5, "Na": 0.5}, "Cl"],
                                      [[0, 0, 0], [0.5, 0.5, 0.5]])
    with warnings.catch_warnings():     # pymatgen labels a mixed site's species rows alike
        warnings.simplefilter("ignore", UserWarning)
        CifWriter(mixed).write_file(folder / "mixed.cif")
    write(folder / "two.extxyz", [bulk("LiCl", "rocksalt", a=5.14), bulk("LiCl", "rocksalt", a=5.4)])
    write(folder / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.2))
    out = folder / "out"
    assert main(["screen", *(str(folder / n) for n in ("mixed.cif", "two.extxyz", "LiCl.cif")),
                 "--model", str(tiny_f64), "--spacing", "0.7", *ORDER, "--top", "4",
                 "-o", str(out)]) == 0
    campaign = out / "campaign.yaml"
    paths = {s["name"]: s["path"] for s in yaml.safe_load(campaign.read_text())["structures"]}
    return folder, campaign, paths


def test_the_sweep_takes_the_campaign_as_it_is(screened, capsys):
    _, campaign, paths = screened
    assert sorted(paths) == ["LiCl", "mixed", "two_0", "two_1"]
    capsys.readouterr()
    assert main(["sweep", "plan", str(campaign)]) == 0, capsys.readouterr().err


def test_an_ordered_file_runs_the_cell_that_was_screened(screened):
    from ionmd.structures import OrderOptions, load_structure, load_structures

    folder, campaign, paths = screened
    (expected,) = load_structures(folder / "mixed.cif", OrderOptions("random", seed=3))
    ran = load_structure(paths["mixed"]).structure
    assert ran.composition.element_composition.reduced_composition == Composition("LiNaCl2")
    np.testing.assert_allclose(ran.lattice.matrix, expected.structure.lattice.matrix, atol=1e-5)

    def sites(s):
        return sorted((site.specie.symbol, *np.round(site.frac_coords % 1, 4)) for site in s)

    assert sites(ran) == sites(expected.structure)
    row = {r["name"]: r for r in json.loads((campaign.parent / "screen.json").read_text())}
    assert paths["mixed"] == row["mixed"]["structure_file"]


def test_each_structure_of_a_file_of_several_runs_its_own_cell(screened):
    folder, _, paths = screened
    for k in (0, 1):
        frame = read(folder / "two.extxyz", index=k)
        mine = read(paths[f"two_{k}"])
        np.testing.assert_allclose(mine.cell.cellpar(), frame.cell.cellpar(), atol=1e-5)
        assert mine.get_chemical_formula() == frame.get_chemical_formula()
    assert paths["LiCl"] == str((folder / "LiCl.cif").resolve())     # a plain file as it is
