"""The swaps of a fully occupied mixed site (ac16a08) come after the searches earlier
versions ran: a cell those searches ordered keeps their seeded arrangement bit for bit (a
campaign's structure_hash stays). The cell: LiOD's Li/Na square net (Li 0.875 / Na 0.125,
fully occupied, 2.50 A apart) beside a half-filled Li site 2.17 A above it, so that Li
moves there make Li-Na pairs whose Na has no empty site to move to. ac16a08 swapped that
Na at once and gave another arrangement for every seed; the reference is the same search
with the swaps taken out (as the earlier versions had none)."""

from __future__ import annotations

import warnings

import pytest

from ionmd.structures import OrderOptions, load_structures
from ionmd.structures import ordering_search
from test_ordering_swap_full_sites import LIOD_PART

MIXED = (LIOD_PART.replace("Li1 Li 0.75 0.25 0 0.75", "Li1 Li 0.75 0.25 0 0.875")
         .replace("Na1 Na 0.75 0.25 0 0.25", "Na1 Na 0.75 0.25 0 0.125")
         .replace("O1 O 0.25", "Li3 Li 0.25 0.75 0.5 0.5\nO1 O 0.25"))


def _ordered(path, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_structures(str(path), OrderOptions(method="random", seed=seed,
                                                       supercell="8A"))[0].structure


@pytest.mark.parametrize("seed", [0, 1])
def test_a_cell_the_earlier_search_orders_keeps_its_arrangement(tmp_path, monkeypatch,
                                                                  seed):
    path = tmp_path / "LiOD_mixed.cif"
    path.write_text(MIXED)
    now = _ordered(path, seed)
    with monkeypatch.context() as m:    # the earlier search: no swaps
        m.setattr(ordering_search._Clashes, "swap", lambda self, *a, **k: False)
        earlier = _ordered(path, seed)
    assert earlier.composition["Na"] > 1          # the earlier search did order it
    assert now == earlier
