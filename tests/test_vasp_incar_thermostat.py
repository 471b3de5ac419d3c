"""An XDATCAR's temperature is the INCAR's TEBEG only where the run holds its ions there
(vasp.at wiki, SMASS and MDALGO: Nosé at SMASS >= 0, velocity scaling at SMASS = -1,
MDALGO 2/4/5/13/21 thermostats, Andersen with ANDERSEN_PROB > 0, Langevin with
LANGEVIN_GAMMA > 0). VASP's default, SMASS = -3 with MDALGO = 0, is NVE: TEBEG is the
starting temperature only (an NVE run started from a lattice at TEBEG settles near half of
it), and ``ionmd analyze`` took it for the run's (its D and sigma "at 800 K"). Now such a
run's temperature is asked for, saying why TEBEG is not it."""

from __future__ import annotations

import pytest
from ase.io import write

from ionmd.analysis.run_spec import load_run_spec
from ionmd.errors import AnalysisError
from test_analysis_foreign_trajectories import _images, _walk

HELD = ["SMASS = 0", "SMASS = 0.5", "SMASS = -1", "MDALGO = 2 ; SMASS = 1", "MDALGO = 4",
        "MDALGO = 5", "MDALGO = 1 ; ANDERSEN_PROB = 0.1", "MDALGO = 3 ; LANGEVIN_GAMMA = 10 10"]
NVE = {"": "SMASS = -3 (the default) with MDALGO = 0: an NVE run",
       "SMASS = -3": "SMASS = -3 with MDALGO = 0: an NVE run",
       "MDALGO = 1": "MDALGO = 1 with ANDERSEN_PROB = 0: an NVE run",
       "MDALGO = 1 ; ANDERSEN_PROB = 0.0": "MDALGO = 1 with ANDERSEN_PROB = 0.0: an NVE run",
       "MDALGO = 3": "MDALGO = 3 with LANGEVIN_GAMMA = 0: an NVE run"}


@pytest.fixture(scope="module")
def xdatcar(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aimd")
    write(folder / "XDATCAR", _images(*_walk(800, n_frames=12)), format="vasp-xdatcar")
    return folder


def incar(folder, tags: str):
    (folder / "INCAR").write_text(f"IBRION = 0 ; POTIM = 2 ; NBLOCK = 1\nTEBEG = 800\n{tags}\n")


@pytest.mark.parametrize("tags", HELD)
def test_a_thermostat_at_tebeg_gives_the_temperature(xdatcar, tags):
    incar(xdatcar, tags)
    assert load_run_spec(xdatcar).temperature_K == 800.0


@pytest.mark.parametrize("tags", list(NVE))
def test_an_nve_runs_tebeg_is_not_its_temperature(xdatcar, tags):
    incar(xdatcar, tags)
    with pytest.raises(AnalysisError) as err:
        load_run_spec(xdatcar)
    msg = str(err.value)
    assert "does not say temperature_K" in msg and "--temperature" in msg
    assert f"TEBEG = 800 but {NVE[tags]}" in msg and "OSZICAR" in msg
    # the run's own mean temperature, given, is used; the time step still the INCAR's
    spec = load_run_spec(xdatcar, {"temperature_K": 412.0})
    assert (spec.temperature_K, spec.timestep_fs) == (412.0, 2.0)
