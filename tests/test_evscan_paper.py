"""The E-V scan as the AQVolt26 paper (Table 1) and MLIP Arena's E-V scan define it: the
strains ("+-20 % in all lattice parameters": cell x (1 + s), V/V0 0.512-1.728), the
single-well verdict as the headline with ionmd's stricter checks as flags, and the
paper's Spearman coefficients, against an analytic Birch-Murnaghan E(V) (ASE's
implementation) and scipy.stats.spearmanr."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.eos import birchmurnaghan
from ase.io import read
from ase.units import GPa
from scipy.stats import spearmanr

from ionmd.errors import IonmdError
from ionmd.protocols import analyse_ev, get_protocol
from ionmd.protocols.evscan import write_ev_scan
from protocol_setup import fcc_cell, morse_model

B0, BP, V0 = 25 * GPa, 4.0, 100.0            # eV/A^3, -, A^3
S = np.linspace(-0.2, 0.2, 21)                # the paper's / MLIP Arena's strains


def _scanned_cells(folder, n):
    return [read(folder / f"ev.{i:03d}.data", format="lammps-data", atom_style="atomic")
            for i in range(n)]


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    return morse_model(tmp_path_factory.mktemp("evmodel") / "morse.pt")


def test_default_scan_strains_every_lattice_parameter_by_20_percent(morse, tmp_path):
    """The ev-scan preset writes the cell scaled by 1 + s, s = -0.2 .. 0.2 in 21 steps
    (V/V0 0.512 .. 1.728); strain='volume' keeps the old V0 (1 + s); settings.json records
    which, so the other scan in the same folder is refused and nothing is overwritten."""
    proto = get_protocol("ev-scan")
    cell = fcc_cell(a=3.62, reps=1)
    folder = write_ev_scan(proto, cell, morse, tmp_path / "lat", name="fcc")
    cells = _scanned_cells(folder, 21)
    lengths = np.array([c.cell.lengths() for c in cells]) / cell.cell.lengths()
    np.testing.assert_allclose(lengths, np.repeat((1 + S)[:, None], 3, axis=1), rtol=1e-9)
    ratio = np.array([c.get_volume() for c in cells]) / cell.get_volume()
    assert ratio[0] == pytest.approx(0.512) and ratio[-1] == pytest.approx(1.728)
    assert json.loads((folder / "settings.json").read_text())["strain"] == "lattice"

    vol = write_ev_scan(proto, cell, morse, tmp_path / "vol", name="fcc", strain="volume")
    ratio = np.array([c.get_volume() for c in _scanned_cells(vol, 21)]) / cell.get_volume()
    np.testing.assert_allclose(ratio, 1 + S, rtol=1e-9)

    kept = (folder / "ev.000.data").read_text()
    with pytest.raises(IonmdError, match=r"differs in strain"):
        write_ev_scan(proto, cell, morse, tmp_path / "lat", name="fcc", strain="volume")
    with pytest.raises(IonmdError, match=r"unknown E-V strain 'cubic'.*'lattice'"):
        write_ev_scan(proto, cell, morse, tmp_path / "new", name="fcc", strain="cubic")
    assert (folder / "ev.000.data").read_text() == kept and not (tmp_path / "new").exists()


def test_birch_murnaghan_curve_over_the_paper_range():
    """An analytic BM3 solid (B0 25 GPa, B' 4, V0 100 A^3; energies from ASE) over the
    paper's volumes: the compressed end lies 5.55 eV up the repulsive wall (0.45 eV at
    0.8 V0, the old volume-strain end); it passes, with the paper's coefficients -1 / +1
    and the fitted B0, B', V0 those of the curve."""
    v = V0 * (1 + S) ** 3
    e = birchmurnaghan(v, -3.0, B0, BP, V0)
    assert e[0] - (-3.0) == pytest.approx(5.554, abs=1e-3)
    assert birchmurnaghan(0.8 * V0, 0.0, B0, BP, V0) == pytest.approx(0.4516, abs=1e-4)
    res = analyse_ev(v[::-1], e[::-1])                # any order
    assert not res.failed and res.reasons == [] and res.flags == []
    assert res.energy_sign_changes == 1
    assert res.spearman_compression_energy == pytest.approx(-1.0)
    assert res.spearman_compression_derivative == pytest.approx(1.0)
    assert res.spearman_tension_energy == pytest.approx(1.0)
    assert res.bulk_modulus_GPa == pytest.approx(25.0, rel=1e-6)
    assert res.bulk_modulus_deriv == pytest.approx(BP, rel=1e-5)
    assert res.v0 == pytest.approx(V0, rel=1e-8) and res.e0 == pytest.approx(-3.0, abs=1e-8)


def test_paper_spearman_coefficients_match_scipy_on_a_noisy_curve():
    """On a BM3 curve with noise, each coefficient is scipy's spearmanr of the paper's
    halves (split at the unstrained middle point, which is not the noisy minimum), the
    derivative one on the finite-difference slopes at the midpoints between volumes."""
    rng = np.random.default_rng(7)
    v = V0 * (1 + S) ** 3
    e = birchmurnaghan(v, 0.0, B0, BP, V0) + rng.normal(0.0, 0.05, len(v))
    mid = 10                                          # s = 0
    vm, slope = (v[1:] + v[:-1]) / 2, np.diff(e) / np.diff(v)
    res = analyse_ev(v, e)
    assert res.spearman_compression_energy == pytest.approx(spearmanr(v[:mid], e[:mid])[0])
    assert res.spearman_compression_derivative == pytest.approx(
        spearmanr(vm[:mid], slope[:mid])[0])
    assert res.spearman_tension_energy == pytest.approx(spearmanr(v[mid:], e[mid:])[0])
    assert res.spearman_tension_derivative == pytest.approx(spearmanr(vm[mid:], slope[mid:])[0])
    assert res.spearman_compression_derivative < 0.99      # the noise shows in dE/dV


def test_derivative_coefficient_sees_a_softened_wall_the_energy_one_misses():
    """A compressed branch that falls monotonically (E's coefficient -1) but whose slope
    does not rise monotonically (a softened wall: E flattens, then steepens again) gives
    the paper's dE/dV coefficient below +1; the verdict (one well) still passes."""
    v = V0 * (1 + S) ** 3
    e = birchmurnaghan(v, 0.0, B0, BP, V0)
    e[2] = e[3] + 0.01                                # flat step between points 2 and 3
    res = analyse_ev(v, e)
    assert not res.failed
    assert res.spearman_compression_energy == pytest.approx(-1.0)
    slope = np.diff(e) / np.diff(v)
    assert res.spearman_compression_derivative == pytest.approx(
        spearmanr((v[1:11] + v[:10]) / 2, slope[:10])[0])
    assert res.spearman_compression_derivative < 0.95


def test_verdict_is_the_papers_single_well_and_ionmd_checks_are_flags():
    """A single well whose energy stops changing beyond the model's reach (a flat tensile
    tail) passes the paper's rule; ionmd flags the branch that is not strictly monotonic.
    A second well, or a minimum beyond the scan's edge, fails the verdict itself."""
    v = np.linspace(8, 12, 9)
    flat_tail = (v - 10.0) ** 2
    flat_tail[-2:] = flat_tail[-3]
    res = analyse_ev(v, flat_tail)
    assert not res.failed and res.reasons == []
    assert any("expanded branch not strictly monotonic" in f for f in res.flags)
    two = analyse_ev(v, np.cos(2 * np.pi * (v - 8) / 2.0))
    assert two.failed and "2 minima" in two.reasons[0]
    edge = analyse_ev(v, -v)
    assert edge.failed and "beyond the tensile end" in edge.reasons[0]
