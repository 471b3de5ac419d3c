"""Protocol presets, overrides and the early checks (each error says what to change)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.io import read

from ionmd.errors import IonmdError
from ionmd.protocols import (PRESETS, get_protocol, parse_temperatures, parse_time_ps,
                             plan_runs)
from ionmd.lammps.process import find_lammps
from ionmd.protocols.prepare import repeats_for
from contract_models import MorseEdgeModel, save_contract_model
from protocol_setup import MORSE, fcc_cell, sheared, short


def test_presets_follow_their_sources():
    c = PRESETS["conductivity"]
    assert (c.ensemble, c.temperatures, c.duration_ps, c.discard_ps, c.timestep_fs) == \
        ("npt", (300.0, 400.0, 500.0, 600.0, 700.0), 110.0, 10.0, 1.0)
    nvt = PRESETS["conductivity-nvt"]
    assert nvt.thermostat == "berendsen" and nvt.supercell == "2x2x2"
    assert nvt.schedule(800.0) == (500.0, 100.0) and nvt.schedule(700.0) == (1000.0, 200.0)
    u = PRESETS["umlip-benchmark"]
    # seed 003 (Du et al.), Sec. 2.2: "3 x 3 x 3 supercells", "time step was set to 2.0 fs",
    # "the evolution duration ranged from 1 to 10 ns", Berendsen tau_T = 200 fs, "non-uniform
    # Berendsen barostat" tau_P = 2000 fs; Sec. 3: diffusivities "at various temperatures
    # (300 K, 400 K, 500 K, 700 K, 900 K, and 1100 K)"
    assert (u.supercell, u.timestep_fs, u.tdamp_fs, u.pdamp_fs) == ("3x3x3", 2.0, 200.0, 2000.0)
    assert (u.thermostat, u.ensemble, u.couple) == ("berendsen", "npt", "aniso")
    assert u.temperatures == (300.0, 400.0, 500.0, 700.0, 900.0, 1100.0)
    assert 1000.0 <= u.duration_ps <= 10000.0
    s = PRESETS["stability"]
    assert (s.temperatures, s.temperature_end, s.duration_ps, s.replicas, s.halt_volume_change) \
        == ((300.0,), 2100.0, 50.0, 3, 0.5)
    assert PRESETS["ev-scan"].max_strain == 0.2


def test_overrides_and_parsers():
    p = get_protocol("conductivity", timestep_fs="2", relax="yes", temperatures="500:900:100",
                     supercell="none")
    assert p.timestep_fs == 2.0 and p.relax is True and p.supercell is None
    assert p.temperatures == (500.0, 600.0, 700.0, 800.0, 900.0)
    assert parse_temperatures("600,800") == (600.0, 800.0)
    assert parse_time_ps("1ns") == 1000.0 and parse_time_ps("500fs") == 0.5
    with pytest.raises(IonmdError, match="no parameter 'tstep'"):
        get_protocol("conductivity", tstep=1)
    with pytest.raises(IonmdError, match="unknown protocol"):
        get_protocol("melting")
    with pytest.raises(IonmdError, match="temperatures"):
        parse_temperatures("900:500:100")


def test_supercell_widths():
    atoms = fcc_cell(reps=1)                       # 3.68 A cube
    assert repeats_for(atoms, "8A") == (3, 3, 3)   # 3 x 3.68 = 11.04 >= 8 > 2 x 3.68
    assert repeats_for(atoms, "2x1x3") == (2, 1, 3)
    prim = atoms[:1].copy()
    prim.set_cell([[0, 1.84, 1.84], [1.84, 0, 1.84], [1.84, 1.84, 0]])
    w = prim.get_volume() / np.linalg.norm(np.cross(prim.cell[1], prim.cell[2]))
    assert repeats_for(prim, "8A") == (int(np.ceil(8 / w)),) * 3


@pytest.mark.parametrize("overrides, message", [
    (dict(timestep_fs=6.0), "time step 6.0 fs cannot work"),
    (dict(timestep_fs=0.0), "time step 0.0 fs cannot work"),
    (dict(duration_ps=0.05, discard_ps=0.1), "nothing would be left"),
    (dict(restart_every=15), "multiple of dump_every"),
    (dict(ensemble="nph"), "ensemble 'nph' unknown"),
    (dict(couple="xyz"), "couple 'xyz' unknown"),
    (dict(couple="tri"), "couple tri needs a triclinic cell"),
    (dict(couple="tri", thermostat="berendsen"), "couple tri needs fix npt"),
])
def test_impossible_settings(tmp_path, morse, overrides, message):
    with pytest.raises(IonmdError, match=message):
        plan_runs(short("conductivity", **overrides), fcc_cell(), morse, tmp_path)
    assert not any(tmp_path.iterdir())             # refused before anything was written


def test_cells_a_protocol_cannot_run(tmp_path, morse):
    """LAMMPS's fix press/berendsen refuses a triclinic box ("Cannot use fix press/berendsen
    with triclinic box", fix_press_berendsen.cpp): the Berendsen NpT preset is refused on
    such a cell before anything is written, not failed by LAMMPS at its first step."""
    with pytest.raises(IonmdError, match="triclinic and LAMMPS's Berendsen barostat"):
        plan_runs(short("umlip-benchmark"), sheared(fcc_cell()), morse, tmp_path)
    plan_runs(short("umlip-benchmark", ensemble="nvt"), sheared(fcc_cell()), morse,
              tmp_path / "nvt")                       # no barostat: fine
    plan_runs(short("umlip-benchmark"), fcc_cell(), morse, tmp_path / "ortho")
    atoms = fcc_cell()
    atoms[0].symbol = "H"
    knows_h = save_contract_model(MorseEdgeModel(**MORSE), tmp_path / "lih.pt",
                                  cutoff=MORSE["rc"], elements=["H", "Li", "Cl"])
    with pytest.raises(IonmdError, match="hydrogen: a 1 fs time step .* timestep_fs=0.5"):
        plan_runs(short("conductivity"), atoms, knows_h, tmp_path / "h")
    assert not (tmp_path / "h").exists()


def test_barostat_coupling_follows_the_cell(tmp_path, morse):
    """couple auto: tri on a triclinic box (LAMMPS's aniso would hold the cell angles,
    scalexy/xz/yz yes), aniso on an orthogonal one (tri is refused there), aniso with
    the Berendsen barostat (no tri); fix box/relax gets the same keyword."""
    from ionmd.protocols.md_input import render_md

    def lines(proto, atoms, where):
        (rd,) = plan_runs(proto, atoms, morse, tmp_path / where, name="x")
        return [ln for ln in render_md(rd, 0, None).splitlines()
                if ln.startswith("fix") and ("npt" in ln or "press" in ln or "relax" in ln)]

    assert PRESETS["conductivity"].couple == "auto"
    (ens,) = lines(short("conductivity"), sheared(fcc_cell()), "tri")
    assert ens.split()[8:12] == ["tri", "1.01325", "1.01325", "1.0"]
    (ens,) = lines(short("conductivity"), fcc_cell(), "ortho")
    assert ens.split()[8] == "aniso"
    relax, ens = lines(short("stability"), sheared(fcc_cell()), "relax")
    assert relax.split()[3:6] == ["box/relax", "tri", "1.0"] and ens.split()[8] == "tri"
    (pstat,) = lines(short("umlip-benchmark"), fcc_cell(), "berendsen")
    assert pstat.split()[3:5] == ["press/berendsen", "aniso"]
    (ens,) = lines(short("conductivity", couple="aniso"), sheared(fcc_cell()), "aniso")
    assert ens.split()[8] == "aniso"                   # as asked


def test_a_directory_written_before_input_versions_resumes_with_its_input(tmp_path, morse):
    """Run directories written before `rot no` and `couple auto` (no ``inputs_version``
    in settings.json; couple recorded as ``aniso``, the default then) are reopened by the
    same command and keep the input they started with."""
    from ionmd.protocols.md_input import render_md
    from ionmd.analysis.run_files import SETTINGS
    from ionmd.protocols.rundir import INPUTS_VERSION, RunDir

    proto = short("conductivity")
    (rd,) = plan_runs(proto, sheared(fcc_cell()), morse, tmp_path, name="x")
    new_input = render_md(rd, 0, None)
    assert "rot no" in new_input and " tri " in new_input
    settings = json.loads((rd.path / SETTINGS).read_text())
    assert settings["inputs_version"] == INPUTS_VERSION
    del settings["inputs_version"]                     # as the old code wrote it
    settings["protocol"]["couple"] = "aniso"
    (rd.path / SETTINGS).write_text(json.dumps(settings))

    (again,) = plan_runs(proto, sheared(fcc_cell()), morse, tmp_path, name="x")  # not refused
    assert json.loads((rd.path / SETTINGS).read_text()) == settings          # not rewritten
    for old in (again, RunDir.open(rd.path)):
        text = render_md(old, 0, None)
        assert "mom yes rot yes" in text and " aniso 1.01325 " in text and " tri " not in text
    with pytest.raises(IonmdError, match="other settings .*protocol.couple"):
        plan_runs(short("conductivity", couple="tri"), sheared(fcc_cell()), morse, tmp_path,
                  name="x")


def test_elements_the_model_lacks(tmp_path, morse):
    atoms = fcc_cell()
    atoms[0].symbol = "Na"
    with pytest.raises(IonmdError, match="contains Na, which model .* does not know"):
        plan_runs(short("conductivity"), atoms, morse, tmp_path)


def test_missing_lmp(monkeypatch, tmp_path):
    import ionmd.lammps.process as prep

    monkeypatch.setattr(prep.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(IonmdError, match="`lmp` not found"):
        find_lammps()


def test_existing_directory_with_other_settings(tmp_path, morse):
    (rd,) = plan_runs(short("conductivity"), fcc_cell(), morse, tmp_path, name="fcc")
    again = plan_runs(short("conductivity"), fcc_cell(), morse, tmp_path, name="fcc")
    assert again[0].path == rd.path                # same settings: reopened
    with pytest.raises(IonmdError, match="other settings .*protocol.timestep_fs"):
        plan_runs(short("conductivity", timestep_fs=2.0), fcc_cell(), morse, tmp_path, name="fcc")
    with pytest.raises(IonmdError, match="structure_hash"):
        plan_runs(short("conductivity"), fcc_cell(a=3.7), morse, tmp_path, name="fcc")


def test_data_file_types_match_pair_coeff(tmp_path, morse):
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = fcc_cell()
    structure = AseAtomsAdaptor.get_structure(atoms)      # pymatgen input works too
    (rd,) = plan_runs(short("conductivity-nvt"), structure, morse, tmp_path, name="fcc")
    run = json.loads((rd.path / "run.json").read_text())
    assert run["type_map"] == {"1": "Li", "2": "Cl"} and rd.elements == ["Li", "Cl"]
    back = read(rd.path / "struct.data", format="lammps-data", atom_style="atomic")
    symbols = [run["type_map"][str(t)] for t in back.get_array("type")]
    assert symbols == atoms.get_chemical_symbols()
    assert np.allclose(back.get_masses(), atoms.get_masses(), atol=1e-3)
    assert run["temperature_K"] == 600.0 and run["discard_ps"] == 0.1 and run["dump_unwrapped"]
    assert json.loads((rd.path / "status.json").read_text())["state"] == "pending"


def test_an_explicit_duration_wins_over_the_presets_low_temperature_rule(morse, tmp_path, capsys):
    """conductivity-nvt runs 1 ns below 800 K by its rule; a duration the user sets
    (--time, --set duration_ps, a campaign's protocol table) applies at every temperature,
    unless the long_* value is set too; `ionmd run` says which setting decided."""
    from ionmd.cli import main

    p = get_protocol("conductivity-nvt", duration_ps="0.6", discard_ps="0.1")
    assert p.schedule(600.0) == p.schedule(1000.0) == (0.6, 0.1)
    assert p.steps(600.0) == 600 and p.schedule_source(600.0) == "duration_ps/discard_ps"
    both = get_protocol("conductivity-nvt", duration_ps=0.6, long_duration_ps=2.0)
    assert both.schedule(600.0) == (2.0, 200.0) and both.schedule(900.0) == (0.6, 100.0)
    assert "long_below_K = 800 K" in PRESETS["conductivity-nvt"].schedule_source(600.0)
    fcc_cell().write(tmp_path / "fcc.cif")
    assert main(["run", "conductivity-nvt", str(tmp_path / "fcc.cif"), "--model", str(morse),
                 "--temps", "600,900", "--time", "0.6ps", "--set", "discard_ps=0.1",
                 "--supercell", "none", "--dry-run", "-o", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "600, 900 K: 0.6 ps (600 steps of 1 fs), 0.1 ps discarded: duration_ps/discard_ps" in out
    for temp in (600, 900):
        (rd,) = (tmp_path / "runs").rglob(f"T{temp}K/r0")
        assert json.loads((rd / "status.json").read_text())["planned_steps"] == 600


def test_non_finite_numbers_are_refused():
    for key in ("duration_ps", "timestep_fs", "tdamp_fs"):
        with pytest.raises(IonmdError, match=f"{key} must be a finite number"):
            get_protocol("conductivity", **{key: "nan"})
    with pytest.raises(IonmdError, match="cannot read time"):
        parse_time_ps("inf")
    with pytest.raises(IonmdError, match="cannot read temperatures"):
        parse_temperatures("nan")
