"""run.json carries the oxidation states that ionmd.analysis uses for Nernst-Einstein
conductivities: guessed from the composition, taken from a decorated pymatgen Structure,
or given; they survive launching and reopening the run directory."""

from __future__ import annotations

import json

from pymatgen.core import Lattice, Structure

from ionmd.analysis.run_spec import load_run_spec
from ionmd.protocols import RunDir, plan_runs
from ionmd.protocols.prepare import oxidation_states
from ionmd.structures import order_structure, read_structure
from protocol_setup import fcc_cell, short


def test_guessed_oxidation_states_are_the_textbook_ones():
    assert oxidation_states(fcc_cell()) == {"Li": 1.0, "Cl": -1.0}
    lgps = order_structure(read_structure("Li10GeP2S12"), "random", seed=0,
                           min_distance=1.7).structure      # its 1.73 A Li1 pairs
    assert oxidation_states(lgps) == {"Li": 1.0, "Ge": 4.0, "P": 5.0, "S": -2.0}
    # a Structure that carries oxidation states keeps them (here unusual ones)
    s = Structure(Lattice.cubic(4.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.add_oxidation_state_by_element({"Li": 0.8, "Cl": -0.8})
    assert oxidation_states(s) == {"Li": 0.8, "Cl": -0.8}


def test_run_json_charges_reach_the_analysis(tmp_path, morse):
    (rd,) = plan_runs(short("conductivity"), fcc_cell(), morse, tmp_path, name="fcc")
    assert json.loads((rd.path / "run.json").read_text())["charges"] == {"Li": 1.0, "Cl": -1.0}
    # launching rewrites run.json (pieces); a reopened directory keeps the charges
    reopened = RunDir.open(rd.path)
    assert reopened.charges == {"Li": 1.0, "Cl": -1.0}
    reopened.charges = None          # as a RunDir made without them: run.json's are kept
    (rd.path / "traj.0.dcd").write_bytes(b"")
    reopened.write_run_json(1)
    assert load_run_spec(rd.path).charges == {"Li": 1.0, "Cl": -1.0}
    (given,) = plan_runs(short("conductivity"), fcc_cell(), morse, tmp_path / "given",
                         name="fcc", charges={"Li": 0.9, "Cl": -0.9})
    assert json.loads((given.path / "run.json").read_text())["charges"] == {"Li": 0.9, "Cl": -0.9}
