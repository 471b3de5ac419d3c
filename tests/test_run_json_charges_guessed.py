"""A run folder says whether its charges were guessed (run.json ``charges_guessed``), so
that ``ionmd analyze RUN`` words an alloy's charges note as the charges module does for
the guess (its advice: how to give other charges) or for charges the structure's file
declared (the physics caveat only). Before, prepare wrote the guess into run.json without
the mark, and ``ionmd analyze`` of a prepared Li2Si run read it as the user's: the
advice was dropped.

The runs are prepared for real (``ionmd run ... --dry-run``: struct.data, run.json); a
synthetic trajectory of the same 16 Li + 8 Si cell (the analysis tests' Brownian Li among
fixed Si) is then put in as piece 0, and run.json rewritten as a launch rewrites it
(``RunDir.write_run_json``). The reference is ``transport_note`` of the composition."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from ase.io import read
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

import synthetic_trajectories as st
from contract_models import MorseEdgeModel, save_contract_model
from ionmd.cli import main
from ionmd.protocols import RunDir, plan_runs
from ionmd.structures import transport_charges
from ionmd.structures.charges import transport_note
from protocol_setup import MORSE, short

T = 800.0
COUNTS = {"Li": 16, "Si": 8}
ZINTL = {"Li": 1.0, "Si": -2.0}        # Li2Si's formal states, neutral
# the protocol of the synthetic trajectory: 200 frames 0.1 ps apart, 10000 steps
AS_SYNTHETIC = ("--time", "20ps", "--set", "timestep_fs=2", "--set", "dump_every=50",
                "--set", "discard_ps=2")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_contract_model(MorseEdgeModel(**MORSE), tmp_path_factory.mktemp("m") / "m.pt",
                               cutoff=MORSE["rc"], elements=["Li", "Si"])


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(31)     # its first frame: no pair within 1.85 A (loadable)
    s = st.make(st.brownian_steps(200, 16, [0.1] * 3, 0.1, rng), L=12.0, rng=rng)
    symbols = ["Si" if e == "Cl" else e for e in s.true.elements.tolist()]
    return s, symbols


def _structure(synthetic, states: dict | None) -> Structure:
    s, symbols = synthetic
    structure = Structure(Lattice(s.true.boxes[0]), symbols, s.wrapped[0],
                          coords_are_cartesian=True)
    if states:
        structure.add_oxidation_state_by_element(states)
    return structure


def _prepared_run(root, model, synthetic, states: dict | None):
    """``ionmd run --dry-run`` of a Li2Si CIF (oxidation states declared where ``states``),
    then piece 0 of the synthetic trajectory put in as a launch would."""
    cif = root / "Li2Si.cif"
    CifWriter(_structure(synthetic, states)).write_file(cif)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", "conductivity", str(cif), "--model", str(model), "--temps",
                     f"{T:g}", "--replicas", "1", "--supercell", "none", "-o",
                     str(root / "runs"), "--dry-run", *AS_SYNTHETIC]) in (0, None)
    (run,) = [p.parent for p in (root / "runs").rglob("run.json")]
    s, symbols = synthetic
    prepared = read(run / "struct.data", format="lammps-data", atom_style="atomic",
                    Z_of_type={1: 3, 2: 14})
    # the data file holds the synthetic's atoms in its order (the DCD's)
    assert np.allclose(prepared.positions, s.wrapped[0], atol=1e-4)
    assert prepared.get_chemical_symbols() == symbols
    frames = root / "frames"
    frames.mkdir()
    st.write_lammps_files(frames, s, [T] * len(s.true.boxes), specorder=["Li", "Si"],
                          symbols=symbols, loop_steps=10000)
    (frames / "md.dcd").rename(run / "traj.0.dcd")
    (frames / "log.lammps").rename(run / "log.0.lammps")
    RunDir.open(run).write_run_json(1)
    return run


def _note(run) -> str:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["analyze", str(run), "--collapse-fraction", "0.01"]) in (0, None)
    results = json.loads((run / "analysis" / "results.json").read_text())
    return results["conductivity"]["charges_note"]


def test_a_prepared_alloy_run_says_its_charges_are_the_guess(tmp_path, model, synthetic):
    run = _prepared_run(tmp_path, model, synthetic, states=None)
    guess = transport_charges("Li2Si")
    note = _note(run)
    assert note == transport_note(COUNTS, guess, given=False)
    assert "to use others, give them" in note and "--charges Li=1" in note
    meta = json.loads((run / "run.json").read_text())
    assert meta["charges"] == guess and meta["charges_guessed"] is True


def test_declared_states_are_not_called_a_guess(tmp_path, model, synthetic):
    run = _prepared_run(tmp_path, model, synthetic, states=ZINTL)
    meta = json.loads((run / "run.json").read_text())
    assert meta["charges"] == ZINTL and meta["charges_guessed"] is False
    note = _note(run)
    assert note == transport_note(COUNTS, ZINTL, given=True)
    assert "guess" not in note and "give them" not in note and "Si its anion" in note


def test_the_mark_survives_reopening_and_reset(tmp_path, model, synthetic):
    """A reset (a failed run retried) or a run resumed from its folder alone keeps the
    mark; a folder written before the mark existed gets none (read as the user's)."""
    (rd,) = plan_runs(short("conductivity", temperatures=(T,), replicas=1, supercell=None),
                      _structure(synthetic, None), model, tmp_path / "guess", name="Li2Si")
    reopened = RunDir.open(rd.path)
    assert reopened.charges_guessed is True
    reopened.reset()
    assert json.loads((rd.path / "run.json").read_text())["charges_guessed"] is True
    reopened.charges = None                 # as a RunDir made without charges
    reopened.write_run_json(0)
    assert json.loads((rd.path / "run.json").read_text())["charges_guessed"] is True

    old = json.loads((rd.path / "run.json").read_text())
    del old["charges_guessed"]
    (rd.path / "run.json").write_text(json.dumps(old))
    RunDir.open(rd.path).write_run_json(0)
    assert "charges_guessed" not in json.loads((rd.path / "run.json").read_text())


def test_charges_given_to_plan_runs_are_the_users(tmp_path, model, synthetic):
    (rd,) = plan_runs(short("conductivity", temperatures=(T,), replicas=1, supercell=None),
                      _structure(synthetic, None), model, tmp_path, name="Li2Si",
                      charges=ZINTL)
    meta = json.loads((rd.path / "run.json").read_text())
    assert meta["charges"] == ZINTL and meta["charges_guessed"] is False
