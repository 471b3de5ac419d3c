"""Charges given by hand are per atom of the run cell, which holds whole atoms: a partially
occupied site's share is in their number once ordered. A campaign's ``charges = {Li = 0.5,
Cl = -1}`` for a file whose Li sites are half occupied (occupancy x Li+) was taken, and
collect's sigma was a quarter of Li+'s (q^2), the occupancy counted twice. A table that
gives every element of a cell and leaves it charged beyond a refinement's few % is now
refused, saying what the cell holds and its net charge; Li = 1 is taken.

Reference: a hand count of the file's sites (Fm-3m: Cl on 4a, Li on 8c at occupancy 1/2:
4 Cl and 8 x 1/2 = 4 Li per conventional cell) and of its net charge under the given
charges.
"""

from __future__ import annotations

from collections import Counter

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

from ionmd.cli import main
from ionmd.structures.charge_values import net_charge_problem
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import write_campaign

LI_SITES, LI_OCCUPANCY, CL_SITES = 8, 0.5, 4        # Fm-3m 8c and 4a, conventional cell


@pytest.fixture
def half_occupied(folder):
    """``folder`` with ``half.cif``: Cl on 4a, Li half on each of the 8c sites."""
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.6), [{"Cl": 1}, {"Li": LI_OCCUPANCY}],
                                  [[0, 0, 0], [0.25, 0.25, 0.25]])
    assert s.composition["Li"] == LI_SITES * LI_OCCUPANCY and s.composition["Cl"] == CL_SITES
    CifWriter(s).write_file(folder / "half.cif")
    return folder


def _campaign(folder, charges: str):
    return write_campaign(folder, structures='["half.cif"]', extra='order = "random"',
                          analysis=f"charges = {charges}\nfit_start_ps = 0.05")


def test_occupancy_times_charge_is_refused_with_the_hand_count(half_occupied):
    li, cl = LI_SITES * LI_OCCUPANCY, CL_SITES
    net = li * LI_OCCUPANCY + cl * -1                       # Li = 0.5: -2 e
    with pytest.raises(CampaignError) as refused:
        load_campaign(_campaign(half_occupied, "{Li = 0.5, Cl = -1}"))
    said = str(refused.value)
    assert f"{li:g} Li" in said and f"{cl:g} Cl" in said, said
    assert f"a net charge of {net:+g} e" in said and "Li = 1, not 0.5" in said


def test_whole_atom_charges_are_taken_and_the_run_cell_is_the_hand_count(half_occupied):
    campaign = load_campaign(_campaign(half_occupied, "{Li = 1, Cl = -1}"))
    [structure] = campaign.structures
    assert Counter(structure.cell.get_chemical_symbols()) == {
        "Li": LI_SITES * LI_OCCUPANCY, "Cl": CL_SITES}
    assert campaign.charges_of(structure.name)[0] == {"Li": 1.0, "Cl": -1.0}


@pytest.mark.parametrize("charges, counts, refused", [
    # refined occupancies a little off neutral (the shipped LGPS's ordered cells: +2 e of
    # 48 e positive) are no mistake of the charges
    ({"Li": 1, "Ge": 4, "P": 5, "S": -2}, {"Li": 22, "Ge": 2, "P": 4, "S": 24}, False),
    ({"Li": 0.5, "Ge": 4, "P": 5, "S": -2}, {"Li": 20, "Ge": 2, "P": 4, "S": 24}, True),
    # a mixed-valence average (Fe3O4: Fe 8/3) is neutral
    ({"Fe": 8 / 3, "O": -2}, {"Fe": 3, "O": 4}, False),
    # a delithiation series under one table of whole states (Li1-xCoO2 with LiCoO2's Co3+,
    # LixFePO4 with Fe2+): mixed valence, each charge a known state (ICSD's), taken; an
    # occupancy counted twice gives a charge no element has, also where a whole number:
    # Mg at half its site given Mg = 1, O at half given -1
    ({"Li": 1, "Co": 3, "O": -2}, {"Li": 6, "Co": 12, "O": 24}, False),     # -6 of 48 e
    ({"Li": 1, "Co": 3, "O": -2}, {"Li": 3, "Co": 12, "O": 24}, False),     # -9 of 48 e
    ({"Li": 1, "Fe": 2, "P": 5, "O": -2}, {"Fe": 4, "P": 4, "O": 16}, False),  # -4 of 32
    ({"Mg": 1, "Cl": -1}, {"Mg": 8, "Cl": 16}, True),
    ({"Li": 1, "Zr": 4, "O": -1}, {"Li": 8, "Zr": 8, "O": 16}, True),
    # nothing to count: an element without a charge, one at 0 (left out), a metal
    ({"Li": 0.5}, {"Li": 4, "Cl": 4}, False),
    ({"Li": 0.5, "Cl": 0}, {"Li": 4, "Cl": 4}, False),
    ({"Li": 1}, {"Li": 16}, False),
])
def test_net_charge_by_hand(charges, counts, refused):
    assert (net_charge_problem(charges, counts) is not None) == refused


# --- ionmd run and plan_runs: the same check once the run cell is built (campaigns only
# had it): its counts are the run cell's, a supercell's or a disordered file ordered

def _hand_count_refusal(li: float, cl: float, q_li: float) -> str:
    """What the refusal names for ``li`` Li and ``cl`` Cl at Li = ``q_li``, Cl = -1: the
    cell by hand and its net charge by hand."""
    return (f"charges: Li = {q_li:g}, Cl = -1 leave the run cell ({li:g} Li {cl:g} Cl) a net "
            f"charge of {li * q_li - cl:+g} e")


def test_ionmd_run_refuses_a_files_occupancy_times_charge(folder, capsys):
    """A CIF declaring Li0.5+ on the half-occupied 8c sites (occupancy x Li+), ordered by
    ``ionmd run --order random`` into whole atoms: 4 Li, 4 Cl, -2 e. No folder is written."""
    from pymatgen.core import Species
    from pymatgen.io.cif import CifParser

    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.6),
                                  [{Species("Cl", -1): 1}, {Species("Li", 0.5): LI_OCCUPANCY}],
                                  [[0, 0, 0], [0.25, 0.25, 0.25]])
    CifWriter(s).write_file(folder / "declared.cif")
    read = CifParser(folder / "declared.cif").parse_structures(primitive=False)[0]
    assert {sp.symbol: sp.oxi_state for sp in read.composition} == {"Li": 0.5, "Cl": -1}
    rc = main(["run", "conductivity", str(folder / "declared.cif"), "--model",
               str(folder / "morse.pt"), "--temps", "600", "--replicas", "1", "--supercell",
               "none", "--order", "random", "-o", str(folder / "runs"), "--dry-run"])
    assert rc not in (0, None)
    err = capsys.readouterr().err
    assert _hand_count_refusal(LI_SITES * LI_OCCUPANCY, CL_SITES, 0.5) in err, err
    assert "Li = 1, not 0.5" in err
    assert not (folder / "runs").exists()


@pytest.fixture
def rock_salt():
    """Rock-salt LiCl, 2 Li 2 Cl (fcc on alternating sites), and the protocol repeating
    it 2x2x2 (16 Li 16 Cl by hand)."""
    from ionmd.protocols import get_protocol
    from protocol_setup import fcc_cell

    cell = fcc_cell(reps=1)
    assert Counter(cell.get_chemical_symbols()) == {"Li": 2, "Cl": 2}
    return cell, get_protocol("conductivity", supercell="2x2x2", temperatures=(600,),
                              replicas=1)


def test_plan_runs_checks_the_run_cell_not_the_unit_cell(rock_salt, folder):
    from ionmd.errors import IonmdError
    from ionmd.protocols import plan_runs

    cell, protocol = rock_salt
    with pytest.raises(IonmdError) as refused:
        plan_runs(protocol, cell, folder / "morse.pt", folder / "runs",
                  charges={"Li": 0.5, "Cl": -1})
    assert _hand_count_refusal(2 * 8, 2 * 8, 0.5) in str(refused.value)
    assert not (folder / "runs").exists()
    # per whole atom: taken and recorded
    [rd] = plan_runs(protocol, cell, folder / "morse.pt", folder / "runs",
                     charges={"Li": 1, "Cl": -1})
    assert rd.read_json("run.json")["charges"] == {"Li": 1.0, "Cl": -1.0}
