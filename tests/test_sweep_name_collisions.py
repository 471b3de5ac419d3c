"""Campaign layouts where names collide, and values of the wrong type: every run gets its
own directory inside ``output`` or the campaign is refused naming the line (the line of a
marker in the file is the reference); nothing is planned twice or written outside."""

from __future__ import annotations

import shutil

import pytest

from ionmd.sweep import CampaignError, load_campaign, plan_campaign
from sweep_setup import line_of, write_campaign


@pytest.fixture
def folder(folder):
    for sub in ("a", "b"):
        (folder / sub).mkdir()
        shutil.copy(folder / "fcc.cif", folder / sub / "LiCl.cif")
    return folder


def errors_of(path) -> str:
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    return str(exc.value)


def test_files_of_one_name_listed_one_by_one_are_named_by_their_folders(folder):
    # as a glob names them (a/LiCl.cif, b/LiCl.cif -> a_LiCl, b_LiCl); before, a list of
    # the same two files was refused ("two structures are named 'LiCl'")
    path = write_campaign(folder, temperatures=(900,),
                          structures='["a/LiCl.cif", "b/LiCl.cif", "fcc.cif"]')
    runs = plan_campaign(load_campaign(path))
    assert [r.structure for r in runs] == ["a_LiCl", "b_LiCl", "fcc"]
    assert len({r.path for r in runs}) == 3
    glob_path = write_campaign(folder, name="g", temperatures=(900,), structures='["*/LiCl.cif"]')
    assert [r.path for r in plan_campaign(load_campaign(glob_path))] == [r.path for r in runs[:2]]


def test_one_file_listed_twice_is_refused_with_both_lines(folder):
    path = write_campaign(folder, structures='["fcc.cif",\n  "a/LiCl.cif",\n  "./fcc.cif"]')
    err, second = errors_of(path), line_of(path, "./fcc.cif")
    assert (f"line {second}: structure {folder / 'fcc.cif'} is listed twice (lines "
            f"{line_of(path, 'structures')} and {second})") in err
    # the same file under two names (two orderings, say) is two structures
    path = write_campaign(folder, structures='[{path = "fcc.cif", name = "x1"}, '
                                             '{path = "fcc.cif", name = "x2"}]')
    assert [s.name for s in load_campaign(path).structures] == ["x1", "x2"]


@pytest.mark.parametrize("temperatures, says", [
    ("[900, 900.0]", "temperatures 900 and 900.0 are one temperature (run folder T900K)"),
    ('"600,900,600"', "temperatures 600.0 and 600.0 are one temperature (run folder T600K)"),
])
def test_a_temperature_given_twice_is_refused(folder, temperatures, says):
    # before: two planned runs in one folder, run twice (the second found it done) and
    # listed twice by plan and status
    path = write_campaign(folder)
    path.write_text(path.read_text().replace("temperatures = [600, 900]",
                                             f"temperatures = {temperatures}"))
    err = errors_of(path)
    assert f"line {line_of(path, 'temperatures =')}: {says}" in err
    assert not (folder / "runs").exists()


def test_a_structure_name_cannot_leave_the_output_folder(folder):
    # before: name = "../../x" put the runs two folders above output
    path = write_campaign(folder, structures='[\n{path = "fcc.cif", name = "../../x"}]')
    assert (f"line {line_of(path, '../../x')}: structure name '../../x' cannot name a run "
            f"folder inside output") in errors_of(path)
    path = write_campaign(folder, structures='[\n{path = "*/LiCl.cif", name = "y"}]')
    assert (f"line {line_of(path, '*/LiCl.cif')}: name = 'y' names one structure but "
            f"'*/LiCl.cif' matches 2 files") in errors_of(path)


@pytest.mark.parametrize("extra, marker, says", [
    # before: a TypeError traceback from range() in plan_runs
    ("replicas = 2.5", "replicas = 2.5", "replicas must be a whole number (got 2.5)"),
    # before: accepted as 1 replica / seed 1
    ("seed = true", "seed = true", "seed must be a whole number (got True)"),
])
def test_top_level_numbers_of_the_wrong_type_name_their_line(folder, extra, marker, says):
    path = write_campaign(folder, replicas=1)
    path.write_text(path.read_text().replace("replicas = 1\n", extra + "\n"))
    assert f"line {line_of(path, marker)}: {says}" in errors_of(path)


def test_protocol_values_of_the_wrong_type_are_all_named(folder):
    # before: dump_every = 2.5 and template = 5 were accepted (LAMMPS would stop on the first)
    path = write_campaign(folder)
    path.write_text(path.read_text().replace("dump_every = 10", "dump_every = 2.5\ntemplate = 5"))
    err = errors_of(path)
    assert f"line {line_of(path, 'dump_every')}: protocol.dump_every must be a whole number" in err
    assert f"line {line_of(path, 'template')}: protocol.template must be text (got 5)" in err
    # text is read as the command line reads it
    path = write_campaign(folder)
    path.write_text(path.read_text().replace("dump_every = 10", 'dump_every = "10"'))
    assert load_campaign(path).protocol.dump_every == 10


def test_a_charges_table_without_the_mobile_species_is_refused_before_the_runs(folder):
    # before: accepted; after the runs collect had D but "no conductivity (charges of the
    # mobile species unknown)"
    path = write_campaign(folder, analysis="charges = {Na = 1, Cl = -1}\nfit_start_ps = 0.05")
    assert (f"line {line_of(path, 'charges =')}: analysis.charges gives no charge for the "
            f"mobile species Li") in errors_of(path)
    path = write_campaign(folder, analysis="charges = {Li = 1, Na = 1}\n"     # extra: fine
                                           "fit_start_ps = 0.05")
    assert load_campaign(path).analysis.charges == {"Li": 1, "Na": 1}


def test_names_without_a_clash_stay_as_they_were(folder):
    # a POSCAR beside a glob of mp-*/POSCAR kept the name POSCAR before; it must keep it
    # (its runs' folders), while the glob's files are told apart by their folders
    from ase.io import read, write

    cell = read(folder / "fcc.cif")
    for d in ("mp-1", "mp-2"):
        (folder / d).mkdir()
        write(folder / d / "POSCAR", cell, format="vasp")
    write(folder / "POSCAR", cell, format="vasp")
    path = write_campaign(folder, structures='["POSCAR", "mp-*/POSCAR", "fcc.cif"]')
    assert [s.name for s in load_campaign(path).structures] == [
        "POSCAR", "mp-1_POSCAR", "mp-2_POSCAR", "fcc"]


def test_a_yaml_key_given_twice_is_refused_with_both_lines(folder):
    # PyYAML keeps the last of two keys: before, this campaign ran 1200 K only
    path = folder / "c.yaml"
    path.write_text("structures: [fcc.cif]\nmodels: [morse.pt]\ntemperatures: [600, 900]\n"
                    "protocol:\n  name: conductivity\n  duration_ps: 0.5\n  discard_ps: 0.1\n"
                    "  supercell: none\n  dump_every: 10\nanalysis:\n  fit_start_ps: 0.05\ntemperatures: [1200]\n")
    err = errors_of(path)
    assert (f"line {line_of(path, 'temperatures: [1200]')}: temperatures is given twice (first "
            f"on line {line_of(path, 'temperatures: [600')}); keep one") in err
    path.write_text(path.read_text().replace("temperatures: [1200]\n", ""))
    assert load_campaign(path).protocol.temperatures == (600.0, 900.0)


def test_models_of_one_name(folder):
    # one file twice: said so (before: "two models share the name 'morse' ... rename one");
    # two files of one name in two folders: named by their folders (test_sweep_cmds.py)
    (folder / "m2").mkdir()
    shutil.copy(folder / "morse.pt", folder / "m2" / "morse.pt")
    path = write_campaign(folder, models='["morse.pt",\n  "./morse.pt"]')
    assert (f"line {line_of(path, './morse.pt')}: model file './morse.pt' is listed twice "
            f"(lines {line_of(path, 'models')} and {line_of(path, './morse.pt')}); list it once"
            ) in errors_of(path)
    path = write_campaign(folder, models='["morse.pt",\n  "m2/morse.pt"]')
    assert [m.name for m in load_campaign(path).models] == ["camp_morse", "m2_morse"]


def test_local_srun_outside_an_allocation_is_refused(folder, monkeypatch):
    # before: accepted; srun failed at once and every submit recorded the run interrupted
    # at step 0 again (exit 4), the reason only in screen.0.txt
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    path = write_campaign(folder, executor='kind = "local"\nlauncher = "srun"')
    assert (f"line {line_of(path, 'launcher')}: launcher = \"srun\" with the local executor "
            f"starts job steps of a SLURM allocation") in errors_of(path)
    monkeypatch.setenv("SLURM_JOB_ID", "123")           # inside salloc: srun is the way
    assert load_campaign(path).executor["launcher"] == "srun"


def test_a_refused_protocol_value_names_its_own_line(folder):
    # before: the line of [protocol]'s name, for a message that speaks of the setting in
    # words ("time step") rather than by its key
    path = write_campaign(folder)
    path.write_text(path.read_text().replace("dump_every = 10", "dump_every = 10\ntimestep_fs = -1"))
    assert (f"line {line_of(path, 'timestep_fs')}: protocol 'conductivity': time step -1 fs "
            f"cannot work") in errors_of(path)
