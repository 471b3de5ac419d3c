"""A LAMMPS run written by hand that equilibrates, then ``reset_timestep 0`` and runs the
production (LAMMPS refuses ``reset_timestep`` with a dump open: the equilibration dumped
to equil.dcd, undumped, the production dumps to prod.dcd); one log.lammps holds both
blocks, each from step 0. ``ionmd analyze`` finds both DCDs and the log: what it analyses
is the production, its thermo rows (step 0 included: the production's first state, the
equilibration's last, not the equilibration's first) and its MSD, compared here with the
log's second block read by a parser of our own and with an MSD of prod.dcd alone
(MDAnalysis, tests/test_logs_hand_resumed_runs.py). Before, step 0 was the
equilibration's (T 1500 K at the velocities' creation for the production's ~1150 K) and
so was the trajectory's first frame (the perfect lattice): the MSD was 6 % low at 0.1 ps.
"""

from __future__ import annotations

import numpy as np
import pytest

from failure_nacl_runs import lmp, nacl_dir
from test_logs_hand_resumed_runs import FIT, reference_msd

T, EQUIL, PROD, EVERY = 1500.0, 300, 500, 50


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from ionmd.cli import main

    run = nacl_dir(tmp_path_factory.mktemp("reset") / "nacl", temperature_K=T, dump_every=EVERY)
    lmp(run, f"velocity all create {T} 12345 mom yes rot no dist gaussian\n"
             f"fix 1 all nvt temp {T} {T} 0.1\nthermo {EVERY}\n"
             f"dump 1 all dcd {EVERY} equil.dcd\nrun {EQUIL}\nundump 1\nreset_timestep 0\n"
             f"dump 2 all dcd {EVERY} prod.dcd\nrun {PROD}\n")
    assert main(["analyze", str(run), *FIT]) in (0, None)
    return run


def blocks(text: str) -> list[np.ndarray]:
    """(step, temp, pe) rows of each thermo block of a NaCl log, read here."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["Step"]:
            out.append([])
        elif out and len(parts) == 9 and parts[0].isdigit():
            out[-1].append([float(parts[0]), float(parts[2]), float(parts[3])])
    return [np.array(b) for b in out]


def test_thermo_is_the_production(run):
    from ionmd.analysis.run_inputs import read_logs
    from ionmd.analysis.run_spec import load_run_spec

    equil, prod = blocks((run / "log.lammps").read_text())
    assert equil[0, 0] == prod[0, 0] == 0 and abs(equil[0, 1] - prod[0, 1]) > 50
    thermo, _ = read_logs(load_run_spec(run))
    assert thermo["Step"].tolist() == prod[:, 0].tolist()
    np.testing.assert_allclose(thermo["Temp"], prod[:, 1], rtol=1e-9)
    np.testing.assert_allclose(thermo["PotEng"], prod[:, 2], rtol=1e-9)


def test_frames_and_msd_are_the_productions(run):
    from ionmd.analysis.msd import compute_msd
    from ionmd.analysis.run_analysis import transport_trajectory
    from ionmd.analysis.run_inputs import run_frames
    from ionmd.analysis.run_spec import load_run_spec

    spec = load_run_spec(run)
    assert [p.name for p in spec.trajectory] == ["equil.dcd", "prod.dcd"]
    frames, elements, masses = run_frames(spec)
    assert frames.steps.tolist() == list(range(0, PROD + 1, EVERY))
    msd = compute_msd(transport_trajectory(spec, frames, elements, masses), "Na")
    ref = reference_msd(run, species_type=2, dcd="prod.dcd")
    assert ref[-1] > 0.05
    np.testing.assert_allclose(msd.msd, ref, rtol=1e-5, atol=1e-8)


def test_loss_at_the_productions_setup_is_at_its_step(tmp_path):
    """An atom put far out after ``reset_timestep 0``: LAMMPS stops at the production's
    setup, at the step it prints just before (0), not at the equilibration's last row
    (was dated step 300)."""
    import re

    from ionmd.lammps.lost_atoms import find_lost_atoms

    run = nacl_dir(tmp_path / "nacl", temperature_K=T, dump_every=EVERY)
    proc = lmp(run, f"velocity all create {T} 12345 mom yes rot no dist gaussian\n"
                    f"fix 1 all nvt temp {T} {T} 0.1\nthermo {EVERY}\nrun {EQUIL}\n"
                    f"reset_timestep 0\nset atom 1 x 1.0e6\nprint \"AT $(step)\"\nrun {PROD}\n",
               check=False)
    text = (run / "log.lammps").read_text()
    assert proc.returncode != 0 and "ERROR: Lost atoms" in text
    lost = find_lost_atoms(text)
    assert lost.after_row is None
    assert lost.step == int(re.search(r"^AT (\d+)", text, re.M).group(1)) == 0
