"""Supercells: explicit repetitions and the minimum-perpendicular-width rule,
checked against plane spacings from the reciprocal lattice and a brute-force search."""

import itertools

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ionmd.errors import IonmdError
from ionmd.structures import (make_supercell, min_width_supercell, parse_supercell,
                              perpendicular_widths)

TRICLINIC = Lattice.from_parameters(5.1, 6.3, 7.9, 71.0, 104.0, 118.0)


@pytest.mark.parametrize("spec,reps", [("2x2x2", (2, 2, 2)), ("3x1X2", (3, 1, 2)), ("2,2,1", (2, 2, 1)),
                                       ("3", (3, 3, 3)), ((1, 2, 3), (1, 2, 3)), (2, (2, 2, 2))])
def test_parse_supercell(spec, reps):
    assert parse_supercell(spec) == reps


@pytest.mark.parametrize("spec", ["2x2", "axbxc", (1, 2), (0, 1, 1), "2x-1x2", (1.5, 1, 1)])
def test_parse_supercell_rejects(spec):
    with pytest.raises(IonmdError, match="supercell"):
        parse_supercell(spec)


def test_widths_are_plane_spacings():
    # independent: spacing of the (100), (010), (001) planes = 1 / |reciprocal vector|
    recip = np.linalg.inv(TRICLINIC.matrix).T
    np.testing.assert_allclose(perpendicular_widths(TRICLINIC), 1 / np.linalg.norm(recip, axis=1))
    np.testing.assert_allclose(perpendicular_widths(Lattice.orthorhombic(3, 4, 5)), [3, 4, 5])


@pytest.mark.parametrize("lattice", [TRICLINIC, Lattice.hexagonal(3.7, 6.1),
                                     Lattice.from_parameters(4.2, 4.4, 12.0, 90, 95, 60)])
@pytest.mark.parametrize("target", [8.0, 11.5])
def test_min_width_matches_brute_force(lattice, target):
    reps = min_width_supercell(lattice, target)
    ok = [n for n in itertools.product(range(1, 9), repeat=3)
          if perpendicular_widths(lattice.matrix * np.array(n)[:, None]).min() >= target]
    assert reps in ok
    assert np.prod(reps) == min(np.prod(n) for n in ok)
    assert all(all(a >= b for a, b in zip(n, reps)) for n in ok)  # smallest on every axis


def test_min_width_exact_fit_and_bad_target():
    assert min_width_supercell(Lattice.cubic(4.0), 8.0) == (2, 2, 2)
    with pytest.raises(IonmdError, match="minimum width"):
        min_width_supercell(Lattice.cubic(4.0), 0)


def test_make_supercell():
    s = Structure(TRICLINIC, ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    big = make_supercell(s, "2x1x3")
    assert len(big) == 12
    np.testing.assert_allclose(big.lattice.matrix, s.lattice.matrix * np.array([2, 1, 3])[:, None])
    default = make_supercell(s)
    assert perpendicular_widths(default.lattice).min() >= 8.0
    with pytest.raises(IonmdError, match="not both"):
        make_supercell(s, "2x2x2", min_width=8)
