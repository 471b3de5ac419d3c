"""A run planned for a cell without its mobile species (Na3PS4 with the default mobile Li)
went ahead: only the analysis refused it, after the MD. ``check_cell``, which ``ionmd run``
and a campaign's plan apply to every run cell, now refuses it first, naming the cell's
elements and how to set mobile_species."""

from __future__ import annotations

import pytest
from ase import Atoms
from ionmd.errors import IonmdError
from ionmd.protocols.checks import check_cell
from ionmd.protocols.presets import get_protocol


@pytest.fixture
def na3ps4() -> Atoms:
    """Cubic Na3PS4's atoms (I-43m, a = 6.9965 A; positions do not matter here)."""
    a = 6.9965
    return Atoms("Na6P2S8", scaled_positions=[
        (0, .5, .5), (.5, 0, .5), (.5, .5, 0), (.5, 0, 0), (0, .5, 0), (0, 0, .5),
        (0, 0, 0), (.5, .5, .5),
        *[(x, x, x) for x in (.17, .67)], *[(x, -x, -x) for x in (.17, .67)],
        *[(-x, x, -x) for x in (.17, .67)], *[(-x, -x, x) for x in (.17, .67)]],
        cell=[a, a, a], pbc=True)


def test_the_default_mobile_li_is_refused_for_a_sodium_cell(na3ps4):
    with pytest.raises(IonmdError, match=r"mobile_species names Li, which this run's "
                                         r"structure does not hold \(elements: Na, P, S\).*"
                                         r"--set mobile_species=Na"):
        check_cell(get_protocol("conductivity"), na3ps4)


def test_the_cell_s_own_carrier_passes(na3ps4):
    check_cell(get_protocol("conductivity", mobile_species=("Na",)), na3ps4)
    with pytest.raises(IonmdError, match=r"names Li, which"):    # one of two absent
        check_cell(get_protocol("conductivity", mobile_species=("Na", "Li")), na3ps4)
