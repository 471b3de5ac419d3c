"""The cell relaxation before the MD (``relax``): NVT runs at the model's own cell (fix
box/relax first, tilts too on a triclinic cell), relaxed to zero stress, not for 200
iterations only. The reference is ASE's own cell relaxation (FrechetCellFilter + BFGS)
with ASE's Morse calculator of the test model's parameters (no LAMMPS, no ionmd)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from ase import units
from ase.calculators.morse import MorsePotential
from ase.cell import Cell
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS

from ionmd.analysis.run_files import SETTINGS
from ionmd.lammps.thermo_log import parse_thermo
from ionmd.protocols import execute, plan_runs
from ionmd.protocols.md_input import render_md
from protocol_setup import MORSE, fcc_cell, sheared, short

RELAXED_RE = re.compile(r"^IONMD_RELAX (converged|NOT converged) after (\d+) round\(s\), \d+ "
                        r"minimiser iterations: stress (\S+) bar .* vol (\S+) lx (\S+) ly (\S+) "
                        r"lz (\S+) xy (\S+) xz (\S+) yz (\S+)$", re.M)


def ase_morse() -> MorsePotential:
    """ASE's Morse potential with the test model's parameters: ASE's rho0 = alpha r0, and
    its smooth cutoff shrunk to a step at rc. The model shifts each pair's energy to zero
    at rc, a constant per pair inside rc that changes neither forces nor stress."""
    r0, rc = MORSE["r0"], MORSE["rc"]
    return MorsePotential(epsilon=MORSE["d0"], rho0=MORSE["alpha"] * r0, r0=r0,
                          rcut1=rc / r0, rcut2=(rc + 1e-9) / r0)


def ase_relaxed(atoms, pressure_bar: float):
    """``atoms`` relaxed (positions and the whole cell) to ``pressure_bar`` by ASE."""
    from threadpoolctl import threadpool_limits

    atoms = atoms.copy()
    atoms.calc = ase_morse()
    opt = BFGS(FrechetCellFilter(atoms, scalar_pressure=pressure_bar * units.bar),
               logfile=None)
    with threadpool_limits(1):      # BLAS threads on a busy 2-core host: 0.6 s a step
        assert opt.run(fmax=1e-6, steps=2000)
    return atoms


def strained(atoms, diagonal):
    atoms = atoms.copy()
    atoms.set_cell(atoms.cell.array @ np.diag(diagonal), scale_atoms=True)
    atoms.rattle(0.03, seed=1)
    return atoms


def run_and_log(proto, atoms, morse, where):
    (rd,) = plan_runs(proto, atoms, morse, where, name="x")
    status = execute(rd)
    assert status["state"] == "completed", status
    return rd, (rd.path / "log.0.lammps").read_text()


def test_nvt_runs_in_the_cell_the_model_relaxed_to_zero_stress(tmp_path, morse):
    """conductivity-nvt on a compressed, sheared (triclinic) and rattled cell: the MD's
    (constant) volume and the cell's lengths and angles are ASE's relaxed cell's; the
    input's volume is 8 % smaller. Before: NVT relaxed the atoms only (and the preset not
    at all), so the MD ran in the input's compressed cell."""
    atoms = strained(sheared(fcc_cell()), [0.97, 1.0, 0.95])
    proto = short("conductivity-nvt", duration_ps=0.02, discard_ps=0.0)
    assert proto.relax and proto.ensemble == "nvt"
    rd, log = run_and_log(proto, atoms, morse, tmp_path)
    ref = ase_relaxed(atoms, proto.pressure_bar)
    assert ref.get_volume() / atoms.get_volume() - 1 > 0.07     # a real relaxation

    md_volume = parse_thermo(log)["Volume"]
    assert np.ptp(md_volume) == 0.0                             # NVT: one cell
    assert md_volume[0] == pytest.approx(ref.get_volume(), rel=1e-6)
    found = RELAXED_RE.search(log)
    assert found and found.group(1) == "converged", log[-3000:]
    # the first round moved the volume by 8 %, the second by < 0.1 %: it stops there
    assert found.group(2) == "2"
    assert float(found.group(3)) < 1.0                          # bar
    lx, ly, lz, xy, xz, yz = map(float, found.groups()[4:])
    cell = Cell([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    assert cell.cellpar() == pytest.approx(ref.cell.cellpar(), abs=1e-5)
    assert "box/relax tri 1.01325" in (rd.path / "in.0.lmp").read_text()


def test_npt_relaxation_is_not_cut_at_200_iterations(tmp_path, morse):
    """stability (NpT, relax) on an orthogonal cell 7 % too wide per length: V0, the
    volume its MD starts from, is ASE's relaxed volume (aniso box/relax). Before: 200
    iterations of LAMMPS's vmax 1e-4 moved each length by 2 % at most."""
    atoms = strained(fcc_cell(), [1.07, 1.07, 1.07])
    proto = short("stability", duration_ps=0.02, discard_ps=0.0, temperature_end=400.0)
    rd, log = run_and_log(proto, atoms, morse, tmp_path)
    ref = ase_relaxed(atoms, proto.pressure_bar)
    assert 1 - ref.get_volume() / atoms.get_volume() > 0.15
    v0 = float(re.search(r"^IONMD_V0 (\S+)$", log, re.M).group(1))
    # aniso keeps the (rattled) cell's right angles, ASE relaxes all six components:
    # the shear stress of a 0.03 A rattle changes the volume by far less than 1e-5
    assert v0 == pytest.approx(ref.get_volume(), rel=1e-5)
    assert RELAXED_RE.search(log).group(1) == "converged"


def test_a_relaxation_that_does_not_converge_says_so(tmp_path, morse, monkeypatch):
    """One round of 3 + 3 iterations cannot relax a cell 7 % too wide: the log's
    IONMD_RELAX line says 'NOT converged' with the stress left, and the MD still runs."""
    import ionmd.protocols.md_input as md_input

    monkeypatch.setattr(md_input, "RELAX_ROUNDS", 1)
    monkeypatch.setattr(md_input, "RELAX_ATOMS_ITERATIONS", 3)
    monkeypatch.setattr(md_input, "RELAX_CELL_ITERATIONS", 3)
    atoms = strained(fcc_cell(), [1.07, 1.07, 1.07])
    proto = short("conductivity-nvt", duration_ps=0.01, discard_ps=0.0)
    rd, log = run_and_log(proto, atoms, morse, tmp_path)
    found = RELAXED_RE.search(log)
    assert found.group(1) == "NOT converged" and found.group(2) == "1"
    assert rd.status["relaxation"].startswith("NOT converged after 1 round(s)")
    assert float(found.group(3)) > md_input.RELAX_PRESSURE_TOL_BAR
    assert "IONMD_END step 10 " in log


def test_folders_of_older_inputs_resume_with_their_input(tmp_path, morse):
    """A conductivity-nvt folder written by inputs version 2 (relax false, the preset's
    value then) and a stability folder of version 2 (200 iterations) are reopened by
    today's presets and keep their inputs; new folders relax the cell."""
    cell = sheared(fcc_cell())
    (rd,) = plan_runs(short("conductivity-nvt"), cell, morse, tmp_path / "nvt", name="x")
    assert "box/relax tri 1.01325 vmax" in render_md(rd, 0, None)
    settings = json.loads((rd.path / SETTINGS).read_text())
    settings["inputs_version"], settings["protocol"]["relax"] = 2, False   # as written then
    (rd.path / SETTINGS).write_text(json.dumps(settings))
    (again,) = plan_runs(short("conductivity-nvt"), cell, morse, tmp_path / "nvt", name="x")
    assert json.loads((rd.path / SETTINGS).read_text()) == settings       # not rewritten
    assert "minimize" not in render_md(again, 0, None)

    (rd,) = plan_runs(short("stability"), cell, morse, tmp_path / "npt", name="x")
    settings = json.loads((rd.path / SETTINGS).read_text())
    settings["inputs_version"] = 2
    (rd.path / SETTINGS).write_text(json.dumps(settings))
    (again,) = plan_runs(short("stability"), cell, morse, tmp_path / "npt", name="x")
    text = render_md(again, 0, None)
    assert "minimize        1.0e-8 1.0e-4 200 2000" in text and "vmax" not in text


def test_a_cell_with_no_minimum_stops_before_the_md(tmp_path):
    """A weak model pulled beyond its tensile strength (d0 0.02 eV at -1e5 bar) holds the
    cell at no volume: the relaxation grew it ~8x per minimisation until LAMMPS held 6 GB
    (review R4), then ran the MD in a gas. Now it stops once the volume is beyond
    RELAX_MAX_VOLUME_RATIO of the input's, and the run fails saying so, no MD run."""
    from contract_models import MorseEdgeModel, save_contract_model
    from ionmd.protocols.md_input import RELAX_MAX_VOLUME_RATIO
    from protocol_setup import ELEMENTS

    weak = save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 0.02}), tmp_path / "weak.pt",
                               cutoff=MORSE["rc"], elements=ELEMENTS)
    proto = short("conductivity-nvt", duration_ps=0.01, discard_ps=0.0, pressure_bar=-1e5)
    (rd,) = plan_runs(proto, sheared(fcc_cell()), weak, tmp_path / "out", name="x")
    status = execute(rd)
    log = (rd.path / "log.0.lammps").read_text()
    ratio = float(re.search(r"^IONMD_RELAX diverged: the volume went to (\S+) times", log,
                            re.M)[1])
    assert ratio > RELAX_MAX_VOLUME_RATIO
    assert "IONMD_END" not in log
    assert status["state"] == "failed" and not status["resumable"]
    assert "found no minimum" in status["reason"] and "no MD was run" in status["reason"]


VERSION_3_RELAXATION = """\
# the cell relaxation: minimisations until the stress is within the tolerance
min_modify      line quadratic
variable        relax_ok string "NOT converged"
variable        relax_v0 equal $(vol:%.12g)
variable        relax_round loop 10
label           relax_loop
fix             relax all box/relax tri 1.01325 vmax 0.001
minimize        0.0 1.0e-6 1000 10000
variable        relax_ratio equal $(vol/v_relax_v0:%.6g)
if              "${relax_ratio} > 2 || ${relax_ratio} < 0.5" then "jump SELF relax_diverged"
variable        relax_dp equal sqrt((c_relax_press[1]-1.01325)^2+(c_relax_press[2]-1.01325)^2+\
(c_relax_press[3]-1.01325)^2+c_relax_press[4]^2+c_relax_press[5]^2+c_relax_press[6]^2)
variable        relax_left equal $(v_relax_dp:%.4g)
variable        relax_n equal ${relax_round}
if              "${relax_left} <= 100" then "variable relax_ok string converged" "jump SELF \
relax_done"
next            relax_round
jump            SELF relax_loop
label           relax_done
print           "IONMD_RELAX ${relax_ok} after ${relax_n} minimisations: stress ${relax_left} \
bar from 1.01325 bar (tri; tolerance 100 bar); vol $(vol:%.12g) lx $(lx:%.12g) ly $(ly:%.12g) \
lz $(lz:%.12g) xy $(xy:%.12g) xz $(xz:%.12g) yz $(yz:%.12g)"
unfix           relax
jump            SELF relax_end
label           relax_diverged
print           "IONMD_RELAX diverged: the volume went to ${relax_ratio} times that of the \
input cell in ${relax_round} minimisation(s) (the limit: 2x either way)"
jump            /dev/null
label           relax_end
"""
"""The relaxation a version-3 folder's input holds (as rendered by 1ddfbee, which wrote
those folders), for conductivity-nvt on a triclinic cell; its diverged branch ends the
input (jump /dev/null), not 'quit 3', which ended the module runner's Python process."""


def test_version_3_folders_keep_their_relaxation_byte_for_byte(tmp_path, morse):
    """A conductivity-nvt folder written by inputs version 3 resumes with the relaxation
    it started with (one coupled minimisation per round, up to 10 x 1000 iterations), not
    the rounds a new folder gets."""
    cell = sheared(fcc_cell())
    (rd,) = plan_runs(short("conductivity-nvt"), cell, morse, tmp_path, name="x")
    assert "min_modify      line quadratic norm max" in render_md(rd, 0, None)   # new
    settings = json.loads((rd.path / SETTINGS).read_text())
    settings["inputs_version"] = 3
    (rd.path / SETTINGS).write_text(json.dumps(settings))
    (again,) = plan_runs(short("conductivity-nvt"), cell, morse, tmp_path, name="x")
    text = render_md(again, 0, None)
    start = text.index("# the cell relaxation")
    end = text.index("label           relax_end\n") + len("label           relax_end\n")
    assert text[start:end] == VERSION_3_RELAXATION


def test_atoms_far_from_their_minimum_do_not_hold_the_cell_back(tmp_path, morse):
    """A compressed, sheared cell rattled by 0.3 A: its atoms relax first, in the cell they
    are in, then atoms and cell together, and the cell reaches ASE's relaxed cell in < 300
    minimiser iterations in all. Before (version 3: atoms and cell in one minimisation,
    whose box/relax vmax bounds the atoms' steps too) it took 855 iterations here; on
    SevenNet-0's Li6PS5Cl its cell swung by +-700 bar for hundreds (docs/presets.md)."""
    atoms = sheared(fcc_cell())
    atoms.set_cell(atoms.cell.array * 0.95, scale_atoms=True)
    atoms.rattle(0.3, seed=3)
    proto = short("conductivity-nvt", duration_ps=0.01, discard_ps=0.0)
    rd, log = run_and_log(proto, atoms, morse, tmp_path)
    found = RELAXED_RE.search(log)
    assert found and found.group(1) == "converged", log[-3000:]
    before_md = log[:log.index(found.group(0))]
    iterations = sum(map(int, re.findall(r"^Loop time of \S+ on \d+ procs for (\d+) steps",
                                         before_md, re.M)))
    assert 0 < iterations < 300
    ref = ase_relaxed(atoms, proto.pressure_bar)
    assert float(found.group(4)) == pytest.approx(ref.get_volume(), rel=1e-6)


def test_a_timer_that_ends_a_round_leaves_the_piece_interrupted(tmp_path, morse):
    """A template whose LAMMPS timer fires in the relaxation's first minimisation (the
    atoms alone): LAMMPS skips the rest, the next minimisation (atoms and cell) too, whose
    box/relax pressure the round then read: 'ERROR: Variable relax_dp: ... cannot be
    invoked before initialization by a run', a failed run. Now the piece ends
    interrupted in its relaxation, resumable, as a timer in a minimisation always did."""
    from ionmd.protocols.md_input import INPUTS

    template = tmp_path / "timed.lmp"
    template.write_text((INPUTS / "md.lmp").read_text().replace(
        "$prepare", "timer           timeout 0:00:01 every 1\nshell sleep 2\n$prepare"))
    atoms = strained(fcc_cell(), [1.07, 1.07, 1.07])
    proto = short("conductivity-nvt", duration_ps=0.01, discard_ps=0.0,
                  template=str(template))
    (rd,) = plan_runs(proto, atoms, morse, tmp_path / "out", name="x")
    status = execute(rd)
    log = (rd.path / "log.0.lammps").read_text()
    assert "Stopping criterion = walltime limit reached" in log and "ERROR" not in log
    assert log.count("Loop time of") == log.count("Minimization stats:") == 1   # no MD
    assert status["state"] == "interrupted" and status["resumable"], status
    assert status["stopped_by"] == "timer timeout" and "relaxation" in status["reason"]
