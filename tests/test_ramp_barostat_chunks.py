"""Inputs version 5: a Nose-Hoover NpT heating ramp runs in chunks, so that the barostat's
mass follows the ramp, and a piece resumed from a restart file runs what the uninterrupted
run does.

LAMMPS's fix npt sets the barostat mass W = (N+1) k_B T_target pdamp^2 in ``FixNH::setup``,
once per ``run`` command (``omega_mass_flag`` 0 in fix_nh.cpp): a ramp run as one ``run``
kept its first step's mass up to the end, and a piece resumed mid-ramp took the mass of
its own first step. The mass is read here from LAMMPS itself: fix npt's vector gives
``omega_dot`` (element 10 with ``aniso``) and its kinetic energy 0.5 W omega_dot^2
(element 28), so W = 2 KE / omega_dot^2, compared with the formula of LAMMPS's manual.
The runs are LAMMPS-only (``pair_style morse`` in a copy of md.lmp: a user template
without ``$ramp_chunks``), 108 atoms, 1000 steps (~1.5 s each)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from ionmd.analysis.run_files import SETTINGS
from ionmd.errors import IonmdError
from ionmd.lammps.log import finished_loops
from ionmd.lammps.process import find_lammps
from ionmd.lammps.restart import restart_step
from ionmd.lammps.thermo_log import parse_thermo, parse_thermo_pieces
from ionmd.protocols import plan_runs
from ionmd.protocols.md_input import INPUTS, render_md
from protocol_setup import MORSE, fcc_cell, short

KB_METAL = 8.617343e-5      # LAMMPS's force->boltz in units metal (eV/K)
T0, T1, STEPS, PDAMP_PS = 300.0, 2100.0, 1000, 0.2
CHUNK = 100                 # ramp_chunk_steps here: 1.8 K a step, restart_every 300
N_ATOMS = 108


def morse_template(path, run_line: str | None = None):
    """md.lmp with LAMMPS's own Morse pair style and fix npt's barostat velocity and its
    kinetic energy printed at full precision (a user template: no ``$ramp_chunks``)."""
    text = (INPUTS / "md.lmp").read_text()
    text = text.replace("pair_style      ionmd $model", f"pair_style      morse {MORSE['rc']}")
    text = text.replace("pair_coeff      * * $elements",
                        f"pair_coeff      * * {MORSE['d0']} {MORSE['alpha']} {MORSE['r0']}")
    text = text.replace("$ensemble\n", "$ensemble\nthermo_style    custom step temp vol press "
                        "f_ens[10] f_ens[28]\nthermo_modify   format float %.15g\n")
    if run_line is not None:
        text = text.replace("run             $steps upto start 0 stop $steps", run_line)
    path.write_text(text)
    return str(path)


def plan(tmp_path, morse, name="out", version=None, **over):
    settings = dict(template=None if "template" in over else morse_template(tmp_path / f"{name}.lmp"),
                    temperatures=(T0,), temperature_end=T1, duration_ps=STEPS / 1000.0,
                    restart_every=300, thermo_every=10, dump_every=10, relax=False,
                    halt_volume_change=None, pdamp_fs=1000 * PDAMP_PS)
    settings.update(over)
    (rd,) = plan_runs(short("stability", **settings), fcc_cell(reps=3), morse, tmp_path / name,
                      name="fcc")
    if version is not None:               # a folder an older ionmd wrote
        recorded = json.loads((rd.path / SETTINGS).read_text())
        recorded["inputs_version"] = version
        (rd.path / SETTINGS).write_text(json.dumps(recorded))
    return rd


def run_lammps(folder, text: str, k: int) -> str:
    (folder / f"in.{k}.lmp").write_text(text)
    subprocess.run(find_lammps() + ["-in", f"in.{k}.lmp", "-log", f"log.{k}.lammps",
                                    "-screen", "none"], cwd=folder, check=True)
    return (folder / f"log.{k}.lammps").read_text()


def mass_temperature(th) -> np.ndarray:
    """The temperature the barostat's mass was set at, per row where the barostat moves: W = (N+1) k_B T / pfreq^2
    (fix nh's manual), W read from fix npt's omega_dot and its kinetic energy."""
    moving = th["f_ens[10]"] != 0                     # not at step 0
    w = 2.0 * th["f_ens[28]"][moving] / th["f_ens[10]"][moving] ** 2
    return w / (PDAMP_PS ** 2 * (N_ATOMS + 1) * KB_METAL)


def target(step):
    return T0 + (T1 - T0) * np.asarray(step, float) / STEPS


def test_the_barostat_mass_follows_the_ramp_in_version_5(tmp_path, morse):
    new, old = plan(tmp_path, morse, "new"), plan(tmp_path, morse, "old", version=4)
    masses = {}
    for name, rd in (("new", new), ("old", old)):
        th = parse_thermo(run_lammps(rd.path, render_md(rd, 0, None), 0))
        assert list(th["Step"]) == list(range(0, STEPS + 1, 10))    # one row per step
        moving = th["Step"][th["f_ens[10]"] != 0]
        inside = moving % CHUNK != 0     # not a chunk's last row (the mass before it)
        masses[name] = moving[inside], mass_temperature(th)[inside]
    steps, t_mass = masses["old"]        # one run: the first step's mass to the end
    np.testing.assert_allclose(t_mass, T0, rtol=1e-5)
    steps, t_mass = masses["new"]        # each chunk's: its first step's target
    np.testing.assert_allclose(t_mass, target(steps // CHUNK * CHUNK), rtol=1e-5)
    late = steps > 0.9 * STEPS           # the barostat's period late in the ramp:
    period = 2 * np.pi * PDAMP_PS * np.sqrt(t_mass[late] / target(steps[late]))
    assert np.all(period > 0.95 * 2 * np.pi * PDAMP_PS)     # ~pdamp's (v4: 0.38 of it)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, morse):
    tmp = tmp_path_factory.mktemp("ramp")
    rd = plan(tmp, morse)
    log = run_lammps(rd.path, render_md(rd, 0, None), 0)
    return rd, log


def resumed_copy(rd, tmp_path, name):
    """The run folder as a killed piece left it: its first log (IONMD_V0), no restarts."""
    folder = tmp_path / name
    shutil.copytree(rd.path, folder, ignore=shutil.ignore_patterns("restart.*", "traj.*"))
    return folder


def test_a_piece_resumed_from_restart_b_runs_the_uninterrupted_rows(tmp_path, uninterrupted):
    rd, log = uninterrupted
    full = parse_thermo(log)
    assert restart_step(rd.path / "restart.b") == 600        # 300, 600 (b), 900 (a)
    folder = resumed_copy(rd, tmp_path, "b")
    shutil.copy(rd.path / "restart.b", folder)
    th = parse_thermo(run_lammps(folder, render_md(rd, 1, folder / "restart.b"), 1))
    after = full["Step"] >= 600
    assert list(th["Step"]) == list(full["Step"][after])
    for column in ("Temp", "Volume", "Press", "f_ens[10]"):
        # not bit for bit: the resumed setup sums the forces in its own order (~1e-14)
        np.testing.assert_allclose(th[column], full[column][after], rtol=1e-8, atol=1e-6)


def test_a_piece_resumed_between_chunks_goes_back_on_the_grid(tmp_path, uninterrupted):
    """restart.end at a frame inside a chunk (650): the piece runs to the next chunk step
    first (its mass is its first step's, as any run's), then the chunks of the
    uninterrupted run with their masses."""
    rd, log = uninterrupted
    folder = resumed_copy(rd, tmp_path, "end")
    cut = re.sub(rf"^run +{STEPS} ", "run             650 ", render_md(rd, 0, None), flags=re.M)
    run_lammps(folder, cut, 0)           # the same run stopped at 650 (a timer)
    os.replace(folder / "restart.end.part", folder / "restart.end")
    text = render_md(rd, 1, folder / "restart.end")
    th = parse_thermo(run_lammps(folder, text, 1))
    assert th["Step"][0] == 650 and th["Step"][-1] == STEPS
    loops = [loop.steps for loop in finished_loops((folder / "log.1.lammps").read_text())]
    assert loops == [50, 100, 100, 100]                      # 650-700, then the grid
    moving = th["Step"][th["f_ens[10]"] != 0]
    inside = moving % CHUNK != 0
    steps, t_mass = moving[inside], mass_temperature(th)[inside]
    start = np.where(steps < 700, 650, steps // CHUNK * CHUNK)
    np.testing.assert_allclose(t_mass, target(start), rtol=1e-5)


def test_log_readers_take_a_chunked_piece(tmp_path, uninterrupted):
    """Several thermo headers, loop lines and boundary rows printed twice in one piece:
    one row per step (the first of a boundary's two), the steps of the loops adding up."""
    rd, log = uninterrupted
    assert log.count("Loop time") == STEPS // CHUNK and log.count("   Step") == STEPS // CHUNK
    own = {}
    for line in log.splitlines():      # the rows read here: the first one of each step
        words = line.split()
        if len(words) == 6 and words[0].isdigit():
            own.setdefault(int(words[0]), float(words[1]))
    th = parse_thermo_pieces([log])
    assert list(th["Step"]) == sorted(own) and list(th["Temp"]) == [own[s] for s in sorted(own)]
    assert sum(loop.steps for loop in finished_loops(log)) == STEPS
    from ionmd.analysis.log_timing import frames_settings, timing_from_logs
    from ionmd.lammps.echoed_input import md_settings

    meta = {}
    frames = frames_settings({"log.0.lammps": log}, {"log.0.lammps": md_settings(log)},
                             [rd.path / "traj.0.dcd"])
    with pytest.raises(Exception, match="thermostat ramped from 300 to 2100 K"):
        timing_from_logs(rd.path, meta, frames)
    meta = {"temperature_K": 300.0}
    timing_from_logs(rd.path, meta, frames)
    assert meta["timestep_fs"] == pytest.approx(1.0)


def test_a_template_without_the_run_line_is_told_how_to_chunk(tmp_path, morse):
    rd = plan(tmp_path, morse, "own", template=morse_template(
        tmp_path / "own.lmp", run_line="run             $steps"))
    with pytest.raises(IonmdError, match=r"end the MD's run line with \$ramp_chunks"):
        render_md(rd, 0, None)
    rd = plan(tmp_path, morse, "placed", template=morse_template(
        tmp_path / "placed.lmp", run_line="run             $steps upto start 0 stop $steps "
                                           "pre yes $ramp_chunks"))
    assert re.search(r"^run +1000 upto start 0 stop 1000 pre yes post no every 100 NULL$",
                     render_md(rd, 0, None), re.M)
    rd = plan(tmp_path, morse, "nostop", template=morse_template(
        tmp_path / "nostop.lmp", run_line="run             $steps upto $ramp_chunks"))
    with pytest.raises(IonmdError, match="each chunk would ramp over its own steps"):
        render_md(rd, 0, None)


def test_a_version_4_folder_keeps_its_input(tmp_path, morse):
    """Byte for byte what version 4 rendered: the template with its one run line (checked
    against the old code's output by hand, 2026-12-07), which version 5 chunks."""
    old = plan(tmp_path, morse, "old", version=4)
    text = render_md(old, 0, None)
    assert "post no every" not in text and re.search(r"^run +1000 upto start 0 stop 1000$", text, re.M)
    new = plan(tmp_path, morse, "new")
    chunked = render_md(new, 0, None)
    assert re.search(r"^run +1000 upto start 0 stop 1000 post no every 100 NULL$", chunked, re.M)
    assert chunked.replace(" post no every 100 NULL", "").replace("/new/", "/old/") == text


def old_seed(seed, temperature, replica) -> int:
    """Version 4's draw (1 .. 2**30), written out here."""
    key = f"{seed} {float(temperature)!r} {replica}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "little") % (1 << 30) + 1


def test_new_seeds_are_marsaglia_seeds_and_old_folders_keep_theirs(tmp_path, morse):
    from ionmd.protocols.run_settings import velocity_seed

    seeds = [velocity_seed(7, T, r) for T in (300.0, 600.0, 900.0, 1200.0) for r in range(60)]
    assert 1 <= min(seeds) and max(seeds) <= 900_000_000 and len(set(seeds)) == len(seeds)
    # the earlier draw is kept where LAMMPS takes it: the same settings, the same velocities
    olds = [old_seed(7, T, r) for T in (300.0, 600.0, 900.0, 1200.0) for r in range(60)]
    kept = [new == old for new, old in zip(seeds, olds) if old <= 900_000_000]
    assert kept and all(kept) and len(kept) < len(olds)
    # a version-4 folder whose seed is beyond that range keeps it when reopened
    replica = next(r for r in range(100) if old_seed(12345, 600.0, r) > 900_000_000)
    proto = short("conductivity", temperatures=(600.0,), replicas=replica + 1)
    rds = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")
    folder = rds[replica].path
    recorded = json.loads((folder / SETTINGS).read_text())
    assert recorded["velocity_seed"] <= 900_000_000
    recorded.update(inputs_version=4, velocity_seed=old_seed(12345, 600.0, replica))
    (folder / SETTINGS).write_text(json.dumps(recorded))
    again = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")[replica]   # not refused
    assert again.velocity_seed == old_seed(12345, 600.0, replica) > 900_000_000
    assert f"create 600.0 {again.velocity_seed} " in render_md(again, 0, None)


@pytest.mark.parametrize("seed, ok", [(900_000_000, True), (900_000_001, False)])
def test_lammps_marsaglia_seed_limit(tmp_path, seed, ok):
    """The limit above, as LAMMPS's RanMars (fix langevin) says it."""
    (tmp_path / "in.lmp").write_text(
        "units metal\nregion b block 0 5 0 5 0 5\ncreate_box 1 b\ncreate_atoms 1 single 1 1 1\n"
        f"mass 1 1.0\nfix l all langevin 300 300 0.1 {seed}\nrun 0\n")
    done = subprocess.run(find_lammps() + ["-in", "in.lmp", "-screen", "none", "-log", "log"],
                          cwd=tmp_path)
    assert (done.returncode == 0) == ok
    assert ("Invalid seed for Marsaglia" in (tmp_path / "log").read_text()) != ok


def test_a_chunk_stopped_by_a_silent_timeout_keeps_its_rows(uninterrupted):
    """The lammps module's force_timeout (how ionmd stops an in-process run) says nothing;
    a chunk it stopped one step after a row spans one step fewer than its loop counts,
    which tells a rerun's rows where no echoed run announced the block: a chunk is
    announced by its run's one echo (``every``)."""
    rd, log = uninterrupted
    lines = log.splitlines()
    header = [k for k, line in enumerate(lines) if line.split()[:1] == ["Step"]][3]  # 300-400
    rows = lines[header + 1:header + 7]                      # steps 300 .. 350
    assert [int(r.split()[0]) for r in rows] == list(range(300, 351, 10))
    cut = lines[:header + 7] + ["Loop time of 0.01 on 1 procs for 51 steps with 108 atoms"]
    th = parse_thermo("\n".join(cut))
    assert list(th["Step"]) == list(range(0, 351, 10))


def test_a_killed_stability_ramp_resumes_into_the_uninterrupted_run(tmp_path, morse):
    """Through ionmd (md.lmp, the ionmd pair style): a piece that ends itself at step 750
    (mid-chunk, as a kill: rows past its last restart file, 600) and the piece ionmd then
    resumes from restart.b give the uninterrupted run's rows and status."""
    from ionmd.protocols import execute
    from ionmd.protocols.md_input import ramp_chunk_steps

    settings = dict(temperatures=(T0,), temperature_end=T1, duration_ps=1.2, restart_every=300,
                    thermo_every=10, dump_every=10, relax=False, halt_volume_change=None,
                    pdamp_fs=200.0)
    chunk = ramp_chunk_steps(short("stability", **settings), T0, 1200)
    template = (INPUTS / "md.lmp").read_text().replace(
        "run             $steps upto", f'if "$$(step) == 0" then "run 750 upto start 0 stop '
        f'$steps post no every {chunk} NULL" "quit 1"\nrun             $steps upto')
    (tmp_path / "killed.lmp").write_text(template)
    (straight,) = plan_runs(short("stability", **settings), fcc_cell(), morse,
                            tmp_path / "straight", name="fcc")
    (killed,) = plan_runs(short("stability", template=str(tmp_path / "killed.lmp"), **settings),
                          fcc_cell(), morse, tmp_path / "killed", name="fcc")
    assert execute(straight)["state"] == "completed"
    first = execute(killed)
    assert first["state"] == "interrupted" and first["step"] == 750, first
    done = execute(killed)
    assert done["state"] == "completed" and done["resumed_from"] == "restart.b", done
    assert int(parse_thermo(killed.piece(1)["log"].read_text())["Step"][0]) == 600
    want = parse_thermo_pieces([straight.piece(0)["log"].read_text()])
    got = parse_thermo_pieces([killed.piece(k)["log"].read_text() for k in (0, 1)])
    assert list(got["Step"]) == list(want["Step"]) == list(range(0, 1201, 10))
    for column in ("Temp", "Volume", "Press", "PotEng"):
        np.testing.assert_allclose(got[column], want[column], rtol=1e-8, atol=1e-6)
    assert done["step"] == straight.status["step"] == 1200
    assert done["temperature_now_K"] == pytest.approx(straight.status["temperature_now_K"],
                                                      rel=1e-8)
