"""A run resumed by hand as LAMMPS users do it, found in its folder without a list of
files: two ``lmp`` invocations, the second from ``read_restart`` with ``-log log.lammps.1``
(LAMMPS's own numbering), pieces md.0.dcd and md.1.dcd, a run.json without ``logs`` nor
``trajectory``. Piece 1 went on from its restart file of step 500 to step 700 (heated:
abandoned steps, as a run killed after its last restart file has) and piece 2 went on from
that file, so the resumed run is the uninterrupted one run in the same
way: its thermo rows, frames and MSD are compared with those of one ``lmp`` run 0 -> END
(rock-salt NaCl, tests/failure_nacl_runs.py), the MSD with one computed here from the
DCD (MDAnalysis, minimum-image unwrapping of numpy's own).

Also: the order of the files found (numbers as numbers) and the run.json schema check,
which ``load_run_spec`` (the Python API, ``sweep collect``) makes, not only ``ionmd analyze``.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from failure_nacl_runs import HEAD, POTENTIAL, lmp, nacl_dir
from lammps_runner import lammps_cmd

T, RESTART, KILLED_AT, END, EVERY = 1500.0, 500, 700, 1000, 50
FIT = ["--fit-start-ps", "0.1", "--fit-end-ps", "0.5", "--window-ps", "0.2"]
MD = (f"fix 1 all nvt temp {T} {T} 0.1\nthermo {EVERY}\n"
      f"dump traj all dcd {EVERY} md.{{k}}.dcd\n")
START = f"velocity all create {T} 12345 mom yes rot no dist gaussian\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(uninterrupted run, run resumed by hand) folders, both analysed by ``ionmd analyze``."""
    from ionmd.cli import main

    tmp = tmp_path_factory.mktemp("hand")
    whole = nacl_dir(tmp / "whole" / "nacl", temperature_K=T, dump_every=EVERY)
    lmp(whole, START + MD.format(k=0) + f"run {END}\n")
    resumed = nacl_dir(tmp / "resumed" / "nacl", temperature_K=T, dump_every=EVERY)
    # piece 1 goes on past its restart on another trajectory (hotter), as a run killed
    # after its last restart file and resumed from it has abandoned steps
    lmp(resumed, START + MD.format(k=0) + f"restart {RESTART} md.restart\nrun {RESTART}\n"
                 f"velocity all scale {2 * T}\nrun {KILLED_AT - RESTART}\n")
    script = HEAD.format(start=f"read_restart md.restart.{RESTART}", potential=POTENTIAL,
                         dt=0.001) + MD.format(k=1) + f"run {END} upto\n"
    (resumed / "in.2.lmp").write_text(script)
    subprocess.run(lammps_cmd() + ["-in", "in.2.lmp", "-log", "log.lammps.1"], cwd=resumed,
                   env={**os.environ, "OMP_NUM_THREADS": "1"}, check=True, capture_output=True,
                   timeout=600)
    for run in (whole, resumed):
        assert "logs" not in json.loads((run / "run.json").read_text())
        assert main(["analyze", str(run), *FIT]) in (0, None)
    return whole, resumed


def own_rows(path) -> np.ndarray:
    """(step, temp, pe) of the 9-column thermo rows of a NaCl log, read here."""
    rows = [ln.split() for ln in path.read_text().splitlines()]
    return np.array([[float(p[0]), float(p[2]), float(p[3])] for p in rows
                     if len(p) == 9 and p[0].isdigit()])


def test_the_pieces_are_a_killed_run_and_its_resumption(runs):
    _, resumed = runs
    one, two = own_rows(resumed / "log.lammps"), own_rows(resumed / "log.lammps.1")
    assert one[-1, 0] == KILLED_AT and two[0, 0] == RESTART and two[-1, 0] == END
    # piece 1's rows past the restart are another trajectory's, where the uninterrupted
    # run and piece 2 agree to 1e-6 (below)
    assert not np.allclose(one[one[:, 0] == KILLED_AT, 1:], two[two[:, 0] == KILLED_AT, 1:],
                           rtol=1e-2)


def test_the_logs_found_are_both_pieces_and_their_rows_are_the_whole_runs(runs):
    from ionmd.analysis.run_inputs import read_logs
    from ionmd.analysis.run_spec import load_run_spec

    whole, resumed = runs
    spec = load_run_spec(resumed)
    assert [p.name for p in spec.logs] == ["log.lammps", "log.lammps.1"]
    assert [p.name for p in spec.trajectory] == ["md.0.dcd", "md.1.dcd"]
    thermo, _ = read_logs(spec)
    want = own_rows(whole / "log.lammps")
    assert thermo["Step"].tolist() == want[:, 0].tolist()
    np.testing.assert_allclose(thermo["Temp"], want[:, 1], rtol=1e-6)
    np.testing.assert_allclose(thermo["PotEng"], want[:, 2], rtol=1e-6)


def reference_msd(run, species_type: int, dcd: str = "md.0.dcd") -> np.ndarray:
    """MSD (A^2) of one atom type of the run's one DCD by lag in frames, over all time
    origins: MDAnalysis positions unwrapped by the minimum image of each frame's step
    (orthorhombic box, atoms move far less than half of it between frames), the centre
    of mass of the other type's atoms (the framework) held fixed as ionmd does."""
    import MDAnalysis as mda

    u = mda.Universe(str(run / "struct.data"), str(run / dcd), format="LAMMPS",
                     atom_style="id type q x y z")
    pos = np.array([u.atoms.positions.copy() for _ in u.trajectory])
    box = np.array([ts.dimensions[:3] for ts in u.trajectory])
    steps = np.diff(pos, axis=0)
    steps -= box[1:, None, :] * np.round(steps / box[1:, None, :])
    unwrapped = pos[0] + np.concatenate([np.zeros_like(pos[:1]), np.cumsum(steps, axis=0)])
    types = u.atoms.types.astype(int)
    frame = unwrapped[:, types != species_type].mean(axis=1, keepdims=True)   # same mass
    mobile = unwrapped[:, types == species_type] - frame
    n = len(mobile)
    return np.array([((mobile[lag:] - mobile[:n - lag]) ** 2).sum(-1).mean()
                     for lag in range(n)])


def test_msd_and_d_are_the_whole_runs(runs):
    from ionmd.analysis.msd import compute_msd
    from ionmd.analysis.run_analysis import transport_trajectory
    from ionmd.analysis.run_inputs import run_frames
    from ionmd.analysis.run_spec import load_run_spec

    whole, resumed = runs
    spec = load_run_spec(resumed)
    frames, elements, masses = run_frames(spec)
    assert frames.steps.tolist() == list(range(0, END + 1, EVERY))
    msd = compute_msd(transport_trajectory(spec, frames, elements, masses), "Na")
    ref = reference_msd(whole, species_type=2)
    assert ref[-1] > 0.05                       # the ions moved: a curve to compare
    np.testing.assert_allclose(msd.msd, ref, rtol=1e-5, atol=1e-8)
    got, want = (json.loads((run / "analysis" / "results.json").read_text())
                 for run in (resumed, whole))
    assert got["failure"]["run_end_step"] == want["failure"]["run_end_step"] == END
    for key in ("D", "D_std", "msd_exponent"):
        assert got["diffusion"][0][key] == pytest.approx(want["diffusion"][0][key], rel=1e-5)


def test_files_found_are_in_run_order(tmp_path):
    """Logs and DCD pieces found in a folder: numbers as numbers (log.2 before log.10),
    LAMMPS's log.lammps before its log.lammps.N, ionmd's log.K.lammps."""
    from ionmd.analysis.run_spec import load_run_spec

    hand, ionmd_run = ["log.lammps"] + [f"log.lammps.{k}" for k in range(1, 12)], \
        [f"log.{k}.lammps" for k in range(12)]
    pieces = [f"md.{k}.dcd" for k in range(12)]
    for names, folder in ((hand, tmp_path / "hand"), (ionmd_run, tmp_path / "ionmd")):
        folder.mkdir()
        for name in names + pieces + ["struct.data", "log.cite", "log.lammps.bak"]:
            (folder / name).write_text("")
        (folder / "run.json").write_text(json.dumps({"temperature_K": 600, "timestep_fs": 1}))
        spec = load_run_spec(folder)
        assert [p.name for p in spec.logs] == names
        assert [p.name for p in spec.trajectory] == pieces


@pytest.mark.parametrize("schema, why", [("ionmd-run/2", "newer ionmd"),
                                         ("lammps-run/1", "not an ionmd run")])
def test_load_run_spec_refuses_an_unknown_schema(tmp_path, schema, why):
    from ionmd.analysis.run_spec import load_run_spec
    from ionmd.errors import AnalysisError

    nacl_dir(tmp_path / "nacl", temperature_K=T, dump_every=EVERY, schema=schema)
    with pytest.raises(AnalysisError) as exc:
        load_run_spec(tmp_path / "nacl")
    msg = str(exc.value)
    assert str(tmp_path / "nacl" / "run.json") in msg and repr(schema) in msg
    assert "'ionmd-run/1'" in msg and why in msg


def test_load_run_spec_refuses_a_run_json_that_is_no_object(tmp_path):
    from ionmd.analysis.run_spec import load_run_spec
    from ionmd.errors import AnalysisError

    (tmp_path / "run.json").write_text("[600, 1.0]")
    with pytest.raises(AnalysisError, match="holds a JSON list, not an object"):
        load_run_spec(tmp_path)
