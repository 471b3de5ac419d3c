"""The narrow-cell note follows the model's cutoff, not a fixed 5 A: a cell whose image
planes are 5.5 A apart holds the mobile ion's images within a 6 A model's reach (MACE MP,
eSEN), outside a 5 A one's (SevenNet-0). The plane spacing is checked against a hand
calculation, 1 / |reciprocal lattice vector| (ASE's reciprocal cell, no 2 pi)."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from contract_models import MorseEdgeModel, save_contract_model


def _plane_spacing(atoms) -> float:
    return float(min(1.0 / np.linalg.norm(atoms.cell.reciprocal(), axis=1)))


def test_note_follows_cutoff_in_a_cell_between_the_widths():
    from ionmd.screen.screen import small_cell_note

    # a skewed cell whose narrowest plane spacing (5.50 A) lies between the two cutoffs
    cell = np.array([[6.2, 0.0, 0.0], [1.1, 6.0, 0.0], [0.9, 1.3, 5.6]])
    atoms = Atoms("LiCl", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=cell, pbc=True)
    width = _plane_spacing(atoms)
    assert 5.0 < width < 6.0
    assert small_cell_note(atoms, "Li", cutoff=5.0) is None
    note = small_cell_note(atoms, "Li", cutoff=6.0)
    assert note is not None and f"planes {width:.2f} A apart" in note
    assert "6 A cutoff" in note and "--min-image-distance 6" in note


@pytest.fixture(scope="module")
def morse_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("narrow_cutoff")
    return {rc: save_contract_model(torch_script_morse(rc), d / f"morse_{rc:g}.pt",
                                    cutoff=rc, elements=["Cl", "Li"])
            for rc in (5.0, 6.0)}


def torch_script_morse(rc: float):
    return MorseEdgeModel(d0=0.3, alpha=1.5, r0=2.6, rc=rc)


def test_screen_marks_the_cell_by_the_models_cutoff(morse_models):
    """Rock-salt LiCl's cube at a = 5.5 A (planes 5.5 A apart, four Li): marked for the
    6 A model, not for the 5 A one; the note's repeat clears it for the 6 A model."""
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import ScreenSettings, screen_structure

    cube = bulk("LiCl", "rocksalt", a=5.5, cubic=True)
    assert _plane_spacing(cube) == pytest.approx(5.5)
    settings = ScreenSettings(cell="as-given", spacing=0.75, thresholds=(0.5,))
    notes = {rc: screen_structure(cube, ModelRunner(path), settings).extra.get("note")
             for rc, path in morse_models.items()}
    assert notes[5.0] is None
    assert notes[6.0] is not None and "planes 5.50 A apart" in notes[6.0]
    dilute = ScreenSettings(cell="as-given", spacing=0.75, thresholds=(0.5,),
                            min_image_distance=6.0)
    result = screen_structure(cube, ModelRunner(morse_models[6.0]), dilute)
    assert "note" not in result.extra and result.extra["repeat"] == "2x2x2"
