"""``ionmd analyze`` on a LAMMPS run a user wrote by hand (``lmp -in``, no run.json): the
time step and the thermostat target come from the input its log echoes, the dump file is
found by its name, and a dump LAMMPS wrote unsorted is read by atom id.

References: a real LAMMPS run (Li in the octahedral holes of a Lennard-Jones Cl crystal,
NVT at 900 K, ``timestep 0.002`` in ``units metal``) and LAMMPS's own unwrapped
coordinates of the same run (a second, sorted ``xu yu zu`` dump)."""

import json

import pytest

from lammps_runner import run_lmp
from ionmd.cli import main
from ionmd.lammps.echoed_input import md_settings

STEPS, EVERY, DT_PS, T = 2500, 25, 0.002, 900.0

_HAND_RUN = f"""
# a user's own run: Li in the octahedral holes of a Lennard-Jones Cl crystal
units metal
atom_style atomic
boundary p p p
lattice fcc 5.4
region box block 0 4 0 4 0 4
create_box 2 box
create_atoms 2 box
lattice fcc 5.4 origin 0.5 0 0
create_atoms 1 box
group li type 1
delete_atoms random count 192 yes li NULL 4321
mass 1 6.94
mass 2 35.45
pair_style lj/cut 9.0
pair_coeff 1 1 0.01 2.4
pair_coeff 1 2 0.02 2.0
pair_coeff 2 2 0.3 3.4
pair_modify shift yes
variable dt equal {DT_PS}
timestep ${{dt}}
thermo_style custom step temp pe press
thermo 100
write_data start.data
velocity all create {T:g} 1234 mom yes rot yes
fix 1 all nvt temp {T:g} {T:g} 0.1
atom_modify sort 200 0.0
dump d all custom {EVERY} md.dump id type x y z
dump u all custom {EVERY} unwrapped.lammpstrj.ref id type xu yu zu
dump_modify u sort id
dump x all xyz {EVERY * 20} lammps.xyz.ref
run {STEPS}
"""


@pytest.fixture(scope="module")
def hand_run(tmp_path_factory):
    """The run folder as the user left it: in.lmp, log.lammps, start.data, md.dump."""
    root = tmp_path_factory.mktemp("hand")
    run = root / "LiCl_lj" / "900K"
    run_lmp(_HAND_RUN, run)
    return run


def _results(run, *flags):
    assert main(["analyze", str(run), "--charges", "Li=1,Cl=-1", *flags]) == 0
    return json.loads((run / "analysis" / "results.json").read_text())


def test_a_hand_written_run_needs_no_flags(hand_run, capsys):
    """Before: 'temperature_K is unknown', then 'timestep_fs is unknown', then 'no
    trajectory' although the log and the folder said all three."""
    ids = [int(line.split()[0]) for line in (hand_run / "md.dump").read_text().splitlines()
           if len(line.split()) == 5 and line.split()[1] in "12"]
    n = 320
    first, last = ids[:n], ids[-n:]
    assert first != last, "LAMMPS kept the atoms in order: the test would not see a reordering"
    res = _results(hand_run)
    assert res["timestep_fs"] == pytest.approx(DT_PS * 1e3)
    assert res["temperature_K"] == T
    assert res["trajectory"] == ["md.dump"]
    assert res["run_length_ps"] == pytest.approx(STEPS * DT_PS)
    given = _results(hand_run, "--timestep-fs", "2", "--temperature", "900")
    assert given["diffusion"][0]["D"] == res["diffusion"][0]["D"]


def test_unsorted_dump_gives_the_d_of_lammps_unwrapped_coordinates(hand_run, tmp_path):
    """The unsorted wrapped dump, read by id and unwrapped, against LAMMPS's own sorted
    ``xu yu zu`` of the same run (constant box: exact)."""
    D = _results(hand_run)["diffusion"][0]["D"]
    ref = tmp_path / "900K"
    ref.mkdir()
    for name in ("log.lammps", "start.data"):
        (ref / name).write_text((hand_run / name).read_text())
    (ref / "u.lammpstrj").write_text((hand_run / "unwrapped.lammpstrj.ref").read_text())
    D_ref = _results(ref, "--dump-unwrapped")["diffusion"][0]["D"]
    assert D == pytest.approx(D_ref, rel=1e-6)


def test_a_contradicting_flag_is_refused_naming_the_log(hand_run, capsys):
    assert main(["analyze", str(hand_run), "--timestep-fs", "1"]) == 1
    err = capsys.readouterr().err
    assert "timestep_fs = 1 given" in err and "log.lammps: timestep 0.002 (units metal)" in err
    assert main(["analyze", str(hand_run), "--temperature", "800"]) == 1
    assert "log.lammps: thermostat at 900 K" in capsys.readouterr().err


def test_what_the_log_leaves_open_is_asked_for_with_what_it_says(hand_run, tmp_path, capsys):
    """A ramp, two time steps over the runs that write the frames, no thermostat (NVE), no
    units: the flags to pass are named. (Two ``timestep`` lines before one ``run`` are no
    question: LAMMPS uses the last.)"""
    run = tmp_path / "ramp"
    run.mkdir()
    (run / "md.dump").symlink_to(hand_run / "md.dump")
    (run / "start.data").symlink_to(hand_run / "start.data")
    log = (hand_run / "log.lammps").read_text()
    (run / "log.lammps").write_text(log.replace("timestep 0.002", "timestep 0.001")
                                    .replace("\nrun ", "\nrun 100\ntimestep 0.002\nrun ", 1)
                                    .replace("nvt temp 900 900", "nvt temp 300 900"))
    assert main(["analyze", str(run)]) == 1
    err = capsys.readouterr().err
    # two time steps over the frames: no flag is right for all of them (b4d8e8b), so the
    # refusal says so before asking for anything
    assert ("timestep 0.001 (log.lammps, run 1 from step 0), timestep 0.002 (log.lammps, run 2 "
            "from step 100) (units metal): the frames' clock is uneven") in err, err
    assert main(["analyze", str(run), "--timestep-fs", "2"]) == 1
    assert "the frames' clock is uneven" in capsys.readouterr().err
    (run / "log.lammps").write_text(log.replace("nvt temp 900 900", "nvt temp 300 900"))
    assert main(["analyze", str(run)]) == 1
    err = capsys.readouterr().err
    assert ("temperature_K is unknown (log.lammps: thermostat ramped from 300 to 900 K); "
            "put it in run.json or pass --temperature") in err, err
    (run / "log.lammps").write_text(log.replace("fix 1 all nvt temp 900 900 0.1", "fix 1 all nve"))
    assert main(["analyze", str(run), "--timestep-fs", "2"]) == 1
    assert "temperature_K is unknown (log.lammps: no thermostat fix echoed)" in capsys.readouterr().err
    # units lj: its lengths are not in A, which is said first, whatever else is given (6ab28ef)
    (run / "log.lammps").write_text(log.replace("fix 1 all nvt temp 900 900 0.1", "fix 1 all nve")
                                    .replace("units metal", "units lj"))
    assert main(["analyze", str(run), "--temperature", "900"]) == 1
    assert "lengths not in Å (units lj" in capsys.readouterr().err


@pytest.mark.parametrize("line, target", [
    ("fix 1 all npt temp 600 600 0.1 iso 0 0 1", (600.0, 600.0)),
    ("fix 2 all langevin 700 800 0.1 48279", (700.0, 800.0)),
    ("fix 3 all temp/berendsen 800.0 800.0 0.1", (800.0, 800.0)),
    ("fix 4 all temp/csvr 900 900 0.1 54324", (900.0, 900.0)),
    ("fix 5 all temp/rescale 100 300 300 10 1.0", (300.0, 300.0)),
    ("fix 6 all nvt/kk temp 1000 1000 0.1", (1000.0, 1000.0)),
    ("fix 7 all nvt temp ${T} ${T} 0.1", None),             # echoed again substituted
    ("fix 8 all nve", None),
])
def test_thermostat_targets_of_the_echoed_fixes(line, target):
    settings = md_settings(f"units real\ntimestep 0.5\n{line}\n")
    assert settings["units"] == "real" and settings["timesteps"] == [0.5]
    assert settings["targets"] == ([target] if target else [])


def test_elements_come_from_the_pair_coeff_line_of_an_ionmd_run(tmp_path, morse, capsys):
    """``pair_style ionmd`` with ``pair_coeff * * Cl Li`` and a data file without Masses
    (set by ``mass`` in the input): the log names each type's element. Before: 'has no
    Masses section: give a type -> element map'."""
    from ase.io import write

    from protocol_setup import fcc_cell

    run = tmp_path / "LiCl" / "900K"
    run.mkdir(parents=True)
    atoms = fcc_cell(reps=3)
    write(run / "cell.data", atoms, format="lammps-data", specorder=["Cl", "Li"],
          masses=False, atom_style="atomic")
    assert "Masses" not in (run / "cell.data").read_text()
    run_lmp(f"""units metal
atom_style atomic
read_data cell.data
mass 1 35.45
mass 2 6.94
pair_style ionmd {morse}
pair_coeff * * Cl Li
timestep 0.001
velocity all create 900 5 mom yes rot yes
fix 1 all nvt temp 900 900 0.1
dump d all custom 10 md.dump id type x y z
run 400
""", run)
    res = _results(run, "--fit-start-ps", "0.05")
    (d,) = res["diffusion"]
    assert d["n_ions"] == atoms.get_chemical_symbols().count("Li")
    mapped = _results(run, "--fit-start-ps", "0.05", "--type-map", "1=Cl,2=Li")
    assert mapped["diffusion"][0]["D"] == d["D"]
    assert md_settings("pair_coeff * * hybrid/overlay eam/alloy Ni.eam Ni Al\n")["elements"] == ["Ni", "Al"]
    assert md_settings("pair_coeff * * ionmd m.pt Cl NULL\n")["elements"] is None


def test_a_lammps_xyz_dump_is_refused_saying_why(hand_run, tmp_path, capsys):
    """``dump xyz`` has no box and no ids. Before: ASE's "KeyError: '2'" and a guess that the
    file was cut off."""
    run = tmp_path / "900K"
    run.mkdir()
    for name in ("log.lammps", "start.data"):
        (run / name).write_text((hand_run / name).read_text())
    (run / "md.xyz").write_text((hand_run / "lammps.xyz.ref").read_text())
    assert main(["analyze", str(run)]) == 1
    err = capsys.readouterr().err
    assert "is a LAMMPS 'dump xyz' file: it has no box and no atom ids" in err
    assert "dump 'custom ... id type x y z'" in err


def test_a_misspelt_run_json_key_is_named(hand_run, tmp_path, capsys):
    """A hand-written run.json with "timestep" was ignored and the value asked for again."""
    run = tmp_path / "900K"
    run.mkdir()
    for name in ("md.dump", "start.data"):
        (run / name).symlink_to(hand_run / name)
    (run / "run.json").write_text(json.dumps({"timestep": 2, "temperature_K": 900, "notes": "x"}))
    assert main(["analyze", str(run)]) == 1
    assert "unknown key 'timestep'; did you mean 'timestep_fs'?" in capsys.readouterr().err
    (run / "run.json").write_text(json.dumps({"timestep_fs": 2, "temperature_K": 900, "notes": "x"}))
    assert _results(run)["timestep_fs"] == 2      # other unknown keys (notes) are left alone


def test_a_folder_named_for_another_temperature_is_said_with_the_results(hand_run, tmp_path,
                                                                         capsys):
    """The 900 K run in a folder named T1300: analysed at the 900 K of its log's thermostat,
    and the results and stderr say the folder's name says otherwise (RunSpec's
    settings_notes; before, neither said it)."""
    run = tmp_path / "LiCl_lj" / "T1300"
    run.mkdir(parents=True)
    for name in ("md.dump", "start.data", "log.lammps"):
        (run / name).symlink_to(hand_run / name)
    res = _results(run)
    assert res["temperature_K"] == T
    (note,) = res["settings_notes"]
    assert "analysed at 900 K" in note and "not at the 1300 K the folder's name says" in note
    assert f"ionmd: note: {res['run']}: {note}" in capsys.readouterr().err


def _without_step(log: str) -> str:
    """The log as LAMMPS prints it under ``thermo_style custom temp pe press``: the Step
    column taken out of the header and its rows."""
    lines, in_table = [], False
    for line in log.splitlines():
        words = line.split()
        if words[:1] == ["Step"]:
            in_table = True
        elif line.startswith("Loop time"):
            in_table = False
        if in_table:
            line = "   " + "   ".join(words[1:])
        lines.append(line.replace("thermo_style custom step ", "thermo_style custom "))
    return "\n".join(lines) + "\n"


def test_a_log_without_step_costs_only_the_checks_that_read_it(hand_run, tmp_path, capsys):
    """A finished run whose thermo_style prints no step: D as of the same run with the
    column, and a note naming the failure checks that could not run (before: refused,
    'no Step column', no D); --failures-only, those checks, is refused as before."""
    run = tmp_path / "LiCl_lj" / "900K"
    run.mkdir(parents=True)
    for name in ("md.dump", "start.data"):
        (run / name).symlink_to(hand_run / name)
    text = _without_step((hand_run / "log.lammps").read_text())
    assert "Step" not in text and "PotEng" in text
    (run / "log.lammps").write_text(text)
    res = _results(run)
    assert res["diffusion"][0]["D"] == _results(hand_run)["diffusion"][0]["D"]
    skipped = res["skipped_checks"]
    assert "temperature runaway" in skipped and "no Step column" in skipped
    assert skipped in capsys.readouterr().out
    assert "skipped_checks" not in _results(hand_run)
    assert main(["analyze", str(run), "--failures-only"]) == 1
    assert "add 'step' to thermo_style" in capsys.readouterr().err
