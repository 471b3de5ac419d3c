"""The reference volume V0 of the stability protocol's volume check (``fix halt`` while it
runs, the failure analysis after) is the volume the MD starts from, after the relaxation:
AQVolt26 counts "a cell volume change exceeding 50 % of the initial volume" of its NpT
heating runs, and a cell that the model's relaxation resizes by a few % has not failed by
that much. A real NpT run (`lmp` + the plugin, the 32-atom Morse cell of
tests/protocol_setup.py) started 2 % too small (by length) and relaxed by the protocol; the
volumes are read from its log by a parser of our own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ionmd.cli import main
from ionmd.protocols import plan_runs, run_all
from ionmd.protocols.md_input import render_md
from protocol_setup import fcc_cell, morse_model, short

LIMIT = 0.05          # |V/V0 - 1| of fix halt: below the relaxation's change (~6 %)


def own_volumes(text: str) -> np.ndarray:
    """Volumes of the MD thermo rows of an ionmd md log (the 9 columns after the header
    that follows ``reset_timestep 0``: the minimiser's rows come before it)."""
    md = text[text.index("reset_timestep"):]
    return np.array([float(p[7]) for p in (ln.split() for ln in md.splitlines())
                     if len(p) == 9 and p[0].isdigit()])


@pytest.fixture(scope="module")
def relaxed_start(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("v0")
    proto = short("stability", temperatures=(300.0,), temperature_end=None, duration_ps=1.0,
                  halt_volume_change=LIMIT, tdamp_fs=50.0, pdamp_fs=200.0)
    atoms = fcc_cell(a=3.6)                 # the Morse lattice relaxes to ~3.68 A
    (rd,) = plan_runs(proto, atoms, morse_model(tmp / "morse.pt"), tmp / "out", name="fcc")
    (status,) = run_all([rd], progress=False)
    return rd, atoms, status


def test_relaxation_does_not_count_toward_the_volume_limit(relaxed_start):
    rd, atoms, status = relaxed_start
    volumes = own_volumes((rd.path / "log.0.lammps").read_text())
    # what the test needs: the relaxation changed the volume by more than the limit, the
    # MD after it by less
    assert volumes[0] / atoms.get_volume() - 1 > LIMIT + 0.005
    assert np.abs(volumes / volumes[0] - 1).max() < LIMIT - 0.005
    # old behaviour: V0 of the data file, halted at once ("volume changed by more than 5 %")
    assert status["state"] == "completed", status
    assert main(["analyze", str(rd.path), "--failures-only", "--volume-limit", str(LIMIT)]) in (0, None)
    assert not json.loads((rd.path / "analysis" / "failure.json").read_text())["failed"]


def test_a_resumed_piece_checks_against_the_same_volume(relaxed_start):
    rd, _, _ = relaxed_start
    log = (rd.path / "log.0.lammps").read_text()
    v0 = float(re.search(r"^IONMD_V0 (\S+)$", log, re.M).group(1))
    assert v0 == pytest.approx(own_volumes(log)[0], rel=1e-6)
    resumed = render_md(rd, 1, Path("restart.a"))
    (ref,) = re.findall(r"variable\s+dvol equal abs\(vol/(\S+)-1\.0\)", resumed)
    assert float(ref) == pytest.approx(v0, rel=1e-10)
    assert "IONMD_V0" not in resumed
