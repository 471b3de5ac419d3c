"""The one-mobile-ion note (:func:`ionmd.protocols.checks.check_cell`) follows which runs
the analysis gives a D (:func:`ionmd.analysis.run_inputs.ramp_of`, the reference here, on
each run's own temperature and pressures): a pressure ramp gives none (no run at one
density: results version 7), so its note "for D run a supercell" was advice that gets no
D; a thermostat ramp whose temperatures include ``temperature_end`` holds that run there,
analysed for D since results version 8 (collect as ``ionmd analyze``), whose D the one ion
then refuses, and it got no note."""

from __future__ import annotations

import warnings

import pytest
from ase.build import bulk

from ionmd.analysis.run_inputs import ramp_of
from ionmd.analysis.run_spec import RunSpec, protocol_pressure_ramp
from ionmd.errors import IonmdNote
from ionmd.protocols.checks import check_cell
from ionmd.protocols.presets import get_protocol


def _noted(protocol) -> bool:
    atoms = bulk("LiCl", "rocksalt", a=5.14)        # one Li ion
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_cell(protocol, atoms)
    return any(issubclass(w.category, IonmdNote) and "one Li ion" in str(w.message)
               for w in caught)


def _runs_with_d(protocol) -> list[float]:
    """The temperatures whose run ``ramp_of`` leaves a D (no ``no_transport``)."""
    ramp = protocol_pressure_ramp(protocol.ensemble, protocol.pressure_bar,
                                  protocol.pressure_end_bar)
    out = []
    for T in protocol.temperatures:
        spec = RunSpec.__new__(RunSpec)
        spec.__dict__.update(temperature_K=T, temperature_end_K=protocol.temperature_end,
                             pressure_ramp=ramp, frames_ramps=[], discard_ps=0.0)
        if "no_transport" not in ramp_of(spec):
            out.append(T)
    return out


@pytest.mark.parametrize("name, settings", [
    ("pressure-ramp", {}),                                  # no run gets a D
    ("stability", {}),                                      # 300 -> 2100 K: none
    ("stability", {"temperatures": (300.0, 2100.0)}),       # the 2100 K run is held: D
    ("conductivity", {}),                                   # every run
])
def test_the_note_is_given_where_a_run_gets_a_d(name, settings):
    protocol = get_protocol(name, **settings)
    assert _noted(protocol) == bool(_runs_with_d(protocol)), (name, settings)
