"""E-V scan: the bulk modulus of a known potential (a Morse model in the model contract),
on energies checked against LAMMPS's own `pair_style morse`, fitted by ionmd and by
ASE's EquationOfState; and the failure flags on a non-physical E(V)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.eos import EquationOfState
from ase.units import GPa

from ionmd.protocols import analyse_ev, get_protocol, run_ev_scan
from contract_models import MorseEdgeModel, save_contract_model
from lammps_runner import single_point, to_lammps_frame
from protocol_setup import ELEMENTS, MORSE, fcc_cell, morse_model


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    """The in-process runner's pair style on one thread (without OMP_NUM_THREADS it starts
    one per core, and on a 2-core host shared with another test worker its two threads
    wait on each other: 2-8x the time, helper B7's measurement on test_atstop_analysis)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def test_ev_scan_recovers_bulk_modulus(tmp_path):
    model = morse_model(tmp_path / "morse.pt")
    # the default strain scales every lattice vector by 1 + s (the paper's E-V scan, was
    # V0 (1 + s)): +-3 % in a spans about the +-10 % in V this test used before
    proto = get_protocol("ev-scan", max_strain=0.03, n_points=11)
    cell = fcc_cell(a=3.62, reps=1)
    result = run_ev_scan(proto, cell, model, tmp_path / "runs", name="fcc")
    assert not result.failed, result.reasons
    assert result.n_minima == 1 and result.flags == [] and result.strain == "lattice"
    assert result.spearman_left == pytest.approx(-1.0) and result.spearman_right == pytest.approx(1.0)
    v = np.array(result.volumes)
    assert v.min() == pytest.approx(0.97 ** 3 * cell.get_volume())
    assert v.max() == pytest.approx(1.03 ** 3 * cell.get_volume())
    # energies: the same volumes through LAMMPS's own Morse pair style (independent code)
    lines = (f"pair_style morse {MORSE['rc']}\npair_coeff * * {MORSE['d0']} {MORSE['alpha']} "
             f"{MORSE['r0']}\npair_modify shift yes")

    def energy(volume: float, tag: str) -> float:
        strained = cell.copy()
        strained.set_cell(cell.cell * (volume / cell.get_volume()) ** (1 / 3), scale_atoms=True)
        return single_point(to_lammps_frame(strained), None, tmp_path / tag, ELEMENTS,
                            pair_lines=lines).energy

    for i in (0, 10):
        assert result.energies[i] == pytest.approx(energy(v[i], f"sp{i}"), abs=1e-8)
    # bulk modulus: ionmd's Birch-Murnaghan fit against ASE's on the same energies
    eos = EquationOfState(v, np.array(result.energies), eos="birchmurnaghan")
    v0, e0, b = eos.fit()
    assert result.v0 == pytest.approx(v0, rel=1e-5)
    assert result.bulk_modulus_GPa == pytest.approx(b / GPa, rel=1e-3)
    # and against the potential's own B = V d2E/dV2 at V0 (central difference, pair_style morse)
    h = 0.005 * v0
    d2 = (energy(v0 + h, "p") - 2 * energy(v0, "0") + energy(v0 - h, "m")) / h ** 2
    assert result.bulk_modulus_GPa == pytest.approx(v0 * d2 / GPa, rel=0.03)


def test_ev_scan_module_runner_gives_the_same_energies(tmp_path):
    model = morse_model(tmp_path / "morse.pt")
    proto = get_protocol("ev-scan", max_strain=0.1, n_points=5)
    cell = fcc_cell(a=3.62, reps=1)
    sub = run_ev_scan(proto, cell, model, tmp_path / "sub", name="fcc")
    mod = run_ev_scan(proto, cell, model, tmp_path / "mod", name="fcc", runner="module")
    np.testing.assert_allclose(mod.volumes, sub.volumes, rtol=1e-12)
    np.testing.assert_allclose(mod.energies, sub.energies, rtol=1e-12, atol=1e-12)
    assert mod.bulk_modulus_GPa == pytest.approx(sub.bulk_modulus_GPa, rel=1e-9)


def test_ev_scan_keeps_a_finished_scan(tmp_path):
    """The same scan again is redone in its folder (same numbers); a scan with other
    settings (more points) or another model of the same file name is refused, and the
    finished ev.json stays as it was."""
    import json

    from ionmd.errors import IonmdError
    from ionmd.protocols.evscan import write_ev_scan

    (tmp_path / "a").mkdir()
    model = morse_model(tmp_path / "a" / "morse.pt")
    proto = get_protocol("ev-scan", max_strain=0.1, n_points=5)
    cell = fcc_cell(a=3.62, reps=1)
    first = run_ev_scan(proto, cell, model, tmp_path / "runs", name="fcc")
    (ev_json,) = (tmp_path / "runs").rglob("ev.json")
    kept = ev_json.read_text()
    again = run_ev_scan(proto, cell, model, tmp_path / "runs", name="fcc")
    np.testing.assert_allclose(again.energies, first.energies, rtol=1e-12)
    more = get_protocol("ev-scan", max_strain=0.05, n_points=7)
    with pytest.raises(IonmdError, match=r"other settings \(differs in protocol\.max_strain, "
                                         r"protocol\.n_points\)"):
        write_ev_scan(more, cell, model, tmp_path / "runs", name="fcc")
    (tmp_path / "b").mkdir()
    other = save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 2 * MORSE["d0"]}),
                                tmp_path / "b" / "morse.pt", cutoff=MORSE["rc"], elements=ELEMENTS)
    with pytest.raises(IonmdError, match=r"differs in model_hash\)"):
        write_ev_scan(proto, cell, other, tmp_path / "runs", name="fcc")
    assert ev_json.read_text() == kept and len(json.loads(kept)["volumes"]) == 5


def test_ev_failure_flags():
    v = np.linspace(8, 12, 9)
    good = analyse_ev(v, (v - 10.0) ** 2)
    assert not good.failed and good.n_minima == 1
    two_minima = analyse_ev(v, np.cos(2 * np.pi * (v - 8) / 2.0))
    assert two_minima.failed and two_minima.n_minima == 2
    assert any("minima" in r for r in two_minima.reasons)
    bumpy = (v - 10.0) ** 2
    bumpy[1] = bumpy[0] + 0.5          # compressed branch rises before it falls
    res = analyse_ev(v, bumpy)
    assert res.failed and res.spearman_left > -1.0
