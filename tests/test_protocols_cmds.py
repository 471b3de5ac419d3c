"""One rule, one refusal: a protocol setting a campaign (``ionmd sweep``) refuses is refused
by ``ionmd run`` and by the Python API in the same words (``ionmd.protocols.checks`` is
the home of the rules), and none of them leaves a run folder behind. The reference for
each message is the campaign's, which names the line of the campaign file."""

from __future__ import annotations

import re

import pytest
from ase.io import read

from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.protocols import Protocol, get_protocol, plan_runs
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import campaign_dir, line_of, write_campaign

# the campaign's [protocol] (sweep_setup.PROTOCOL) as `ionmd run` options
RUN_ARGS = ["--time", "0.5ps", "--supercell", "none", "--set", "discard_ps=0.1",
            "--set", "dump_every=10", "--set", "thermo_every=10", "--set", "restart_every=100",
            "--set", "tdamp_fs=50", "--set", "pdamp_fs=500", "--dry-run"]
API_SETTINGS = dict(duration_ps=0.5, discard_ps=0.1, dump_every=10, thermo_every=10,
                    restart_every=100, supercell=None, tdamp_fs=50.0, pdamp_fs=500.0)


@pytest.fixture
def folder(tmp_path, morse):
    return campaign_dir(tmp_path / "camp", morse)


def campaign_says(path, marker: str) -> str:
    """The campaign's refusal on the line holding ``marker`` (without the line prefix)."""
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    found = re.search(rf"line {line_of(path, marker)}: (.*)", str(exc.value))
    assert found, str(exc.value)
    return found.group(1)


def run_says(folder, capsys, *args: str, structure: str = "fcc.cif") -> str:
    """`ionmd run`'s refusal (exit status 1, nothing written); RUN_ARGS' --time only
    where ``args`` give no time option."""
    out = folder / "run-out"
    base = RUN_ARGS if not {"--time", "--max-time"} & set(args) else RUN_ARGS[2:]
    assert main(["run", "conductivity", str(folder / structure), "--model",
                 str(folder / "morse.pt"), *base, *args, "-o", str(out)]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert err.startswith("ionmd: error: ")
    return err[len("ionmd: error: "):].strip()


def api_says(folder, **overrides) -> str:
    """The Python API's refusal: get_protocol, then plan_runs (nothing written)."""
    out = folder / "api-out"
    base = {k: v for k, v in API_SETTINGS.items()
            if not (k == "duration_ps" and {"time", "max_time"} & set(overrides))}
    with pytest.raises(IonmdError) as exc:
        protocol = get_protocol("conductivity", **{**base, "temperatures": (600.0,),
                                                   **overrides})
        plan_runs(protocol, read(folder / "fcc.cif"), folder / "morse.pt", out)
    assert not out.exists()
    return str(exc.value)


def edit(path, old: str, new: str):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_temperature_given_twice(folder, capsys):
    # before: `ionmd run --temps 600,600` and plan_runs planned two runs in the folder
    # T600K (run twice, counted twice); the campaign refused it
    path = edit(write_campaign(folder), "temperatures = [600, 900]", 'temperatures = "600,600"')
    says = campaign_says(path, "temperatures =")
    assert says.startswith("temperatures 600.0 and 600.0 are one temperature (run folder T600K)")
    assert run_says(folder, capsys, "--temps", "600,600") == says
    assert api_says(folder, temperatures="600,600") == says
    assert api_says(folder, temperatures=(600.0, 600.0)) == says
    # 900 and 900.0 as a list gives them as written, in every path
    path = edit(write_campaign(folder), "temperatures = [600, 900]", "temperatures = [900, 900.0]")
    assert api_says(folder, temperatures=[900, 900.0]) == campaign_says(path, "temperatures =")


def test_a_temperature_that_is_no_number(folder, capsys):
    # before: plan_runs raised TypeError ('<' not supported between 'str' and 'int')
    path = edit(write_campaign(folder), "temperatures = [600, 900]",
                'temperatures = [600, "hot"]')
    says = campaign_says(path, "temperatures =")
    assert says.startswith("cannot read temperatures 'hot'")
    assert api_says(folder, temperatures=(600, "hot")) == says
    assert run_says(folder, capsys, "--set", "temperatures=hot") == says
    # a number as text is read as the command line reads it, everywhere
    path = edit(write_campaign(folder), "temperatures = [600, 900]", 'temperatures = [600, "900"]')
    assert load_campaign(path, check_resources=False).protocol.temperatures == (600.0, 900.0)
    assert get_protocol("conductivity", temperatures=(600, "900")).temperatures == (600.0, 900.0)


@pytest.mark.parametrize("key, value, says", [
    # before: accepted by the API (a float step count reached LAMMPS's input; seed 1.5
    # and relax = 1 were taken as 1 and true)
    ("dump_every", 10.5, "dump_every must be a whole number (got 10.5)"),
    ("thermo_every", 10.0, "thermo_every must be a whole number (got 10.0)"),
    ("seed", 1.5, "seed must be a whole number (got 1.5)"),
    ("relax", 1, "relax must be true or false (got 1)"),
    ("timestep_fs", True, "timestep_fs must be a number (got True)"),
    ("template", 5, "template must be text (got 5)"),
])
def test_a_value_of_the_wrong_type(folder, key, value, says):
    path = write_campaign(folder)
    toml = {True: "true", 1.5: "1.5"}.get(value, repr(value)) if not isinstance(value, int) \
        or isinstance(value, bool) else str(value)
    edit(path, "[protocol]\n", f"[protocol]\n{key} = {toml}\n")
    path.write_text(re.sub(rf"\n{key} = 10\n", "\n", path.read_text()))   # no duplicate key
    assert campaign_says(path, f"{key} = {toml}") == f"protocol.{says}"
    assert api_says(folder, **{key: value}) == says
    # a Protocol built directly (no overrides) is refused by plan_runs the same way
    with pytest.raises(IonmdError, match=re.escape(says)):
        plan_runs(Protocol(name="x", source="test", temperatures=(600.0,),
                           **{**API_SETTINGS, key: value}),
                  read(folder / "fcc.cif"), folder / "morse.pt", folder / "direct")
    assert not (folder / "direct").exists()


def test_text_that_is_no_whole_number(folder, capsys):
    # before: `--set dump_every=10.5` said "cannot read dump_every='10.5' (invalid literal
    # for int() with base 10: '10.5')", the campaign's 10.5 "must be a whole number"
    path = edit(write_campaign(folder), "dump_every = 10", 'dump_every = "10.5"')
    says = campaign_says(path, "dump_every")
    assert says == "protocol.dump_every must be a whole number (got '10.5')"
    assert run_says(folder, capsys, "--set", "dump_every=10.5") == says[len("protocol."):]
    assert api_says(folder, dump_every="10.5") == says[len("protocol."):]


@pytest.mark.parametrize("key, value", [("replicas", 0), ("dump_every", -10),
                                        ("halt_check_every", 0)])
def test_a_step_count_below_one(folder, capsys, key, value):
    path = write_campaign(folder)
    if key == "replicas":
        edit(path, "replicas = 1", "replicas = 0")
    elif key == "dump_every":
        edit(path, "dump_every = 10", "dump_every = -10")
    else:
        edit(path, "[protocol]\n", f"[protocol]\n{key} = {value}\n")
    says = campaign_says(path, f"{key} = {value}")
    assert says == f"protocol 'conductivity': {key} must be >= 1 (got {value})"
    core = says.split(": ", 1)[1]
    assert run_says(folder, capsys, "--set", f"{key}={value}") == core
    assert api_says(folder, **{key: value}) == core
    if key == "replicas":   # before: argparse's own 'argument --replicas: give a whole number >= 1'
        assert run_says(folder, capsys, "--replicas", str(value)) == core


@pytest.mark.parametrize("text", ["abc", "2.5"])
def test_replicas_that_are_no_whole_number(folder, capsys, text):
    core = run_says(folder, capsys, "--set", f"replicas={text}")
    assert core == f"replicas must be a whole number (got {text!r})"
    assert run_says(folder, capsys, "--replicas", text) == core


def test_an_element_the_model_does_not_know(folder, capsys):
    """One wording, with each command's names for the structure and the model (before:
    'the structure contains Na ...; use a model ...' from ionmd run and the API, 'structure
    'NaCl' contains Na ...; remove the structure or use a model ...' from a campaign)."""
    from ase import Atoms

    Atoms("NaCl", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[4.0] * 3,
          pbc=True).write(folder / "NaCl.cif")
    path = write_campaign(folder, structures='["NaCl.cif"]')
    says = campaign_says(path, "NaCl.cif")
    model_line = f"'morse' (line {line_of(path, 'morse.pt')})"
    run = run_says(folder, capsys, structure="NaCl.cif")
    api = api_says_structure(folder, folder / "NaCl.cif", name="NaCl")
    for text, model in ((says, model_line), (run, str(folder / "morse.pt")),
                        (api, str(folder / "morse.pt"))):
        assert text == (f"structure 'NaCl' contains Na, which model {model} does not know (it "
                        f"knows Li Cl): use a model trained on these elements, or leave the "
                        f"structure out"), text


def api_says_structure(folder, structure, name: str) -> str:
    """The Python API's refusal of ``structure`` (plan_runs; nothing written)."""
    out = folder / "api-out"
    protocol = get_protocol("conductivity", **{**API_SETTINGS, "temperatures": (600.0,)})
    with pytest.raises(IonmdError) as exc:
        plan_runs(protocol, read(structure), folder / "morse.pt", out, name=name)
    assert not out.exists()
    return str(exc.value)


@pytest.mark.parametrize("given, cli", [
    ('max_time = "2ns"', ["--max-time", "2ns"]),
    ('check_every = "20ps"', ["--check-every", "20ps"]),
])
def test_stopping_rule_options_without_a_rule(folder, capsys, given, cli):
    # before: a campaign's max_time or check_every without until was accepted (max_time
    # silently became the fixed length, check_every did nothing); `ionmd run` refused both
    path = edit(write_campaign(folder), "[protocol]\n", f"[protocol]\n{given}\n")
    says = campaign_says(path, given)
    assert "sets how often a stopping rule is checked" in says or \
        "bounds a run with a stopping rule" in says
    assert "add until (--until)" in says
    core = run_says(folder, capsys, *cli)
    key, value = given.split(" = ")
    assert api_says(folder, **{key: value.strip('"')}) == core
    if key == "max_time":       # an old campaign file's key: what to write is said too
        assert says == core + (f". A campaign file written before read max_time without "
                               f"until as the runs' fixed length: for that, replace "
                               f"{given} with time = {value} (runs already written with it "
                               f"are kept: their length is the same)")
    else:
        assert says == core


def test_time_and_max_time_together(folder, capsys):
    path = edit(write_campaign(folder), "[protocol]\n",
                '[protocol]\nuntil = "hops>=10"\ntime = "1ps"\nmax_time = "2ns"\n')
    says = campaign_says(path, "max_time")
    assert says.startswith("give time (--time: a fixed length) or max_time")
    assert run_says(folder, capsys, "--until", "hops>=10", "--time", "1ps",
                    "--max-time", "2ns") == says
    assert api_says(folder, until="hops>=10", time="1ps", max_time="2ns") == says


def test_a_missing_template_is_refused_before_anything_is_written(folder, capsys):
    # before: `ionmd run --template nothere.lmp` ended in a FileNotFoundError traceback
    says = run_says(folder, capsys, "--template", str(folder / "nothere.lmp"))
    assert says.startswith(f"input template {folder / 'nothere.lmp'} not found")
    assert api_says(folder, template=str(folder / "nothere.lmp")) == says


def test_a_refused_run_leaves_no_new_folder(folder, capsys):
    # before: plan_runs wrote T600K, then refused T900K (written with another seed):
    # the half-planned T600K stayed behind
    out = folder / "runs"
    args = ["run", "conductivity", str(folder / "fcc.cif"), "--model", str(folder / "morse.pt"),
            *RUN_ARGS, "-o", str(out), "--dry-run"]
    assert main(args + ["--temps", "900"]) == 0
    assert main(args + ["--temps", "600,900", "--set", "seed=7"]) == 1
    assert "exists with other settings (differs in velocity_seed" in capsys.readouterr().err
    assert [p.name for p in out.rglob("T*K")] == ["T900K"]


def test_a_cell_the_protocol_cannot_run_is_refused_on_the_structures_line(folder, capsys):
    # before: the campaign file was accepted (`sweep plan`/`submit` refused it later, with
    # no line); LAMMPS's fix press/berendsen refuses a triclinic box ("Cannot use fix
    # press/berendsen with triclinic box")
    from protocol_setup import fcc_cell, sheared

    sheared(fcc_cell()).write(folder / "tilted.cif")
    path = write_campaign(folder, protocol="umlip-benchmark", structures='[\n"tilted.cif"]')
    says = campaign_says(path, '"tilted.cif"')
    assert says.startswith("structure 'tilted': the run cell is triclinic and LAMMPS's "
                           "Berendsen barostat (fix press/berendsen) cannot change a triclinic box")
    out = folder / "run-out"
    assert main(["run", "umlip-benchmark", str(folder / "tilted.cif"), "--model",
                 str(folder / "morse.pt"), *RUN_ARGS, "-o", str(out)]) == 1
    assert capsys.readouterr().err.strip() == "ionmd: error: " + says.split(": ", 1)[1]
    assert not out.exists()


def test_a_run_longer_than_lammps_runs(folder, capsys):
    # before: duration_ps = 1e308 ended in 'OverflowError: cannot convert float infinity to
    # integer' (every command); LAMMPS's `run N` takes at most 2**31 - 1 steps
    path = edit(write_campaign(folder), "duration_ps = 0.5", "duration_ps = 1e308")
    says = campaign_says(path, "duration_ps = 1e308")
    core = says.split(": ", 1)[1]
    assert core == (f"at 600 K duration 1e+308 ps is inf steps of 1 fs, more than LAMMPS runs "
                    f"({2**31 - 1}); give a shorter time")
    assert run_says(folder, capsys, "--time", "1e308ps", "--temps", "600") == core
    assert api_says(folder, duration_ps=1e308) == core
    # the longest LAMMPS takes is accepted
    longest = (2**31 - 1) / 1000.0
    get_protocol("conductivity", duration_ps=longest, temperatures=(600.0,))


@pytest.mark.parametrize("name", ["thermo_every", "dump_every", "restart_every"])
def test_an_output_interval_lammps_cannot_count(folder, tmp_path, name):
    """LAMMPS keeps these intervals in 32-bit integers: `thermo 2147483648` stops it with
    'Integer 2147483648 in input script or data file is out of range' (checked here on this
    lmp); ionmd refuses such a setting before writing anything (was accepted)."""
    from lammps_runner import run_lmp

    lammps = run_lmp("units metal\nregion b block 0 5 0 5 0 5\ncreate_box 1 b\n"
                     "thermo 2147483648\n", tmp_path, check=False)
    assert "out of range" in lammps.stdout
    says = api_says(folder, **{name: 2**31})
    assert says == (f"{name} {2**31} is more steps than LAMMPS counts in one setting "
                    f"({2**31 - 1}); give a smaller number")
