"""A screen's error rows name the stage that failed. A disordered CIF that the orderer
refuses was read fine, yet its row said "cannot read: StructureError: ..."; now it says
"cannot order: " and the ordering's own message (its advice included), a disordered file
screened without --order says "disordered: " with how to order it, and only a file that
does not parse says "cannot read"."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

from ionmd.screen.batch import ScreenBatch, plan_inputs
from ionmd.screen.screen import ScreenSettings
from ionmd.structures import OrderOptions, StructureError, load_structures, order_structure


def mixed_rock_salt() -> Structure:
    """Li0.5Na0.5Cl rock salt, 2x2x2 conventional cells: 16 Li and 16 Na on 32 mixed
    sites, C(32, 16) = 6e8 arrangements, over the Ewald ordering's limit (1e8)."""
    cell = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.4), [{"Li": 0.5, "Na": 0.5}, "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    return cell.make_supercell((2, 2, 2), in_place=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stages")
    with warnings.catch_warnings():     # pymatgen labels a mixed site's species rows alike
        warnings.simplefilter("ignore", UserWarning)
        CifWriter(mixed_rock_salt()).write_file(folder / "mixed.cif")
    (folder / "broken.cif").write_text("not a structure\n")
    return folder


def errors_of(files, tmp_path, order) -> dict[str, str]:
    """Rows of a screen of the two files (nothing reaches the model: both fail first)."""
    runner = SimpleNamespace(sha256="0" * 64)
    batch = ScreenBatch([files / "mixed.cif", files / "broken.cif"], tmp_path / "out", runner,
                        ScreenSettings(), model="model.pt", order=order)
    said = []
    batch.run(warn=said.append, progress=False)
    assert batch.failures == 2 and len(said) == 2
    return {r["name"]: r["error"] for r in batch.rows}


def test_a_file_the_orderer_refuses_is_cannot_order_with_its_advice(files, tmp_path):
    order = OrderOptions("ewald")
    with pytest.raises(StructureError) as refused:     # the orderer's own refusal
        order_structure(Structure.from_file(files / "mixed.cif"), "ewald")
    assert "--order random" in str(refused.value)
    errors = errors_of(files, tmp_path, order)
    assert errors["mixed"] == f"cannot order: {refused.value}"
    assert errors["broken"].startswith("cannot read: ")
    dry = {name: why for name, plan, why in plan_inputs([files / "mixed.cif"], None,
                                                          ScreenSettings(), order)}
    assert dry["mixed"] == errors["mixed"]


def test_a_disordered_file_without_order_says_so(files, tmp_path):
    with pytest.raises(StructureError) as refused:
        load_structures(files / "mixed.cif")
    errors = errors_of(files, tmp_path, None)
    assert errors["mixed"] == f"disordered: {refused.value}"
    assert "--order" in errors["mixed"]
    assert errors["broken"].startswith("cannot read: ")


@pytest.mark.parametrize("cell, advised", [("primitive", False), ("conventional", True)])
def test_max_points_advises_the_primitive_cell_only_where_it_is_not_used(cell, advised,
                                                                         tmp_path):
    """--max-points refusals said "or use --cell primitive" in the default primitive cell,
    which is already that cell."""
    from ase.build import bulk

    from ionmd.errors import IonmdError
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import screen_structure
    from protocol_setup import morse_model

    runner = ModelRunner(morse_model(tmp_path / "morse.pt"))
    settings = ScreenSettings(spacing=0.9, rmin=1.0, max_points=2, cell=cell)
    with pytest.raises(IonmdError, match="exceeds --max-points 2") as refused:
        screen_structure(bulk("LiCl", "rocksalt", a=5.14), runner, settings)
    assert ("--cell primitive" in str(refused.value)) == advised


def test_a_missing_file_is_named_as_one(tmp_path):
    """A mistyped path was read as a shipped example's name: "no shipped example structure
    named 'x.cif'". It is a missing file, in ionmd run's words (missing_structure). Example
    names still read."""
    missing = str(tmp_path / "nowhere" / "LiCl.cif")
    (name, plan, why), = plan_inputs([missing], None, ScreenSettings())
    assert why == f"cannot read: structure file {missing!r} does not exist (looked for " \
                  f"{missing}); check the path"
    (name, plan, why), = plan_inputs(["Li3InCl6"], None, ScreenSettings(),
                                     OrderOptions("random", occ_tol=0.15))
    assert why is None and plan.cell_atoms.get_chemical_formula().startswith("Cl")
