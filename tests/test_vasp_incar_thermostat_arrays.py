"""The INCAR thermostat tags that are arrays (vasp.at wiki): LANGEVIN_GAMMA has one friction
per species, and a Langevin run whose first species has none still holds the cell at TEBEG
(its other species couple it to the bath); VASP's ``N*x`` array shorthand is read. MDALGO =
13 couples up to three subsystems to Andersen thermostats, each at its own TSUBSYS (PSUBSYS
its collision rate): TEBEG is not their temperature unless every TSUBSYS is it. Before, only
the first word of a tag was read: ``LANGEVIN_GAMMA = 0 10`` was taken for an NVE run, ``2*10``
was an unreadable INCAR, and an MDALGO = 13 run with TSUBSYS 1200 300 was analysed at its
TEBEG = 800 K."""

from __future__ import annotations

import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.errors import AnalysisError
import test_vasp_incar_thermostat as plain

incar = plain.incar
xdatcar = plain.xdatcar        # its module fixture, this module's too


@pytest.mark.parametrize("tags", ["MDALGO = 3 ; LANGEVIN_GAMMA = 0 10",
                                  "MDALGO = 3 ; LANGEVIN_GAMMA = 2*10.0",
                                  "MDALGO = 13 ; NSUBSYS = 6 ; TSUBSYS = 800 800 ; "
                                  "PSUBSYS = 0.1 0.2"])
def test_an_array_that_holds_the_cell_at_tebeg_gives_it(xdatcar, tags):
    incar(xdatcar, tags)
    assert load_run_spec(xdatcar).temperature_K == 800.0


@pytest.mark.parametrize("tags, said", [
    ("MDALGO = 3 ; LANGEVIN_GAMMA = 2*0", "MDALGO = 3 with LANGEVIN_GAMMA = 2*0: an NVE run"),
    ("MDALGO = 13 ; NSUBSYS = 6 ; TSUBSYS = 1200 300 ; PSUBSYS = 0.1 0.1",
     "MDALGO = 13 holds each subsystem at its own TSUBSYS (1200 300"),
    ("MDALGO = 13 ; NSUBSYS = 6 ; TSUBSYS = 800 800 ; PSUBSYS = 0 0",
     "PSUBSYS 0 0), not at TEBEG")])
def test_subsystems_or_no_friction_are_not_at_tebeg(xdatcar, tags, said):
    incar(xdatcar, tags)
    with pytest.raises(AnalysisError) as err:
        load_run_spec(xdatcar)
    msg = str(err.value)
    assert "does not say temperature_K" in msg and said in msg, msg
    assert load_run_spec(xdatcar, {"temperature_K": 1200.0}).temperature_K == 1200.0
