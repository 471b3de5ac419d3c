"""Campaign files a new user writes from docs/sweeps.md, with the mistakes users make: each
refusal says what is wrong and what to write, and doing what it says gives the campaign
meant; runs already there are never touched by a refused file.

Before: a misspelt key got the list of known keys only ('unknown key 'strucutres'; known:
...'); temperatures = ["600K", "800K"] ended in a ValueError traceback, and "600K, 800K"
was refused; '~/models/m.pt' was looked for in '<campaign folder>/~/models'; timestep_fs =
"2fs" was 'must be a number' without the fix; a too short run was told '--time 110ps'."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ionmd.cli import main
from ionmd.sweep import CampaignError, load_campaign
from ionmd.sweep.plan import plan_campaign
from sweep_setup import line_of

GOOD = """\
name = "first"
output = "runs"
structures = ["structs/fcc.cif", "structs/POSCAR"]
models = ["models/morse.pt"]
temperatures = [600, 800]
replicas = 1

[protocol]
name = "conductivity"
duration_ps = 0.3
discard_ps = 0.1
dump_every = 10
thermo_every = 10
restart_every = 100
supercell = "none"

[executor]
kind = "local"
cores = 2

[analysis]
fit_start_ps = 0.05
"""


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    from protocol_setup import morse_model

    return morse_model(tmp_path_factory.mktemp("morse") / "morse.pt")


@pytest.fixture
def folder(tmp_path, morse):
    """A user's folder: models/morse.pt, structs/fcc.cif and structs/POSCAR (CIF and
    POSCAR mixed), and the campaign as the docs describe it (first.toml)."""
    from protocol_setup import fcc_cell

    (tmp_path / "models").mkdir()
    shutil.copy(morse, tmp_path / "models" / "morse.pt")
    (tmp_path / "structs").mkdir()
    fcc_cell().write(tmp_path / "structs" / "fcc.cif")
    fcc_cell(a=3.7).write(tmp_path / "structs" / "POSCAR", format="vasp")
    (tmp_path / "first.toml").write_text(GOOD)
    return tmp_path


def refusals(path: Path) -> dict[int, str]:
    """The campaign's refusal, by line."""
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    return {int(n): m for n, m in re.findall(r"line (\d+): (.*)", str(exc.value))}


def planned(path: Path) -> list[tuple[str, float, Path]]:
    c = load_campaign(path, check_resources=False)
    return [(r.structure, r.temperature, r.path) for r in plan_campaign(c)]


def test_misspelt_keys_are_told_the_key_meant(folder):
    """Every 'did you mean' taken as it is, round after round (a misspelt [protocol]
    hides its own keys' typos until it is fixed), gives the campaign meant."""
    good = planned(folder / "first.toml")
    typos = {"structures =": "strucutres =", "temperatures =": "temperature =",
             "replicas =": "replica =", "[protocol]": "[protocl]",
             "duration_ps =": "duration =", "dump_every =": "dumpevery ="}
    text = GOOD
    for right, wrong in typos.items():
        text = text.replace(right, wrong, 1)
    path = folder / "first.toml"
    path.write_text(text)
    taken = []
    for _ in range(len(typos)):
        try:
            load_campaign(path, check_resources=False)
            break
        except CampaignError:
            pass
        lines = path.read_text().splitlines(keepends=True)
        for n, message in refusals(path).items():
            meant = re.search(r"'(?:\w+\.)?(\w+)'; did you mean '(\w+)'\?", message)
            if meant:
                lines[n - 1] = lines[n - 1].replace(meant.group(1), meant.group(2), 1)
                taken.append(meant.groups())
        path.write_text("".join(lines))
    assert sorted(taken) == sorted((w.strip("[] ="), r.strip("[] =")) for r, w in typos.items())
    assert planned(path) == good


def test_temperatures_with_their_unit(folder):
    """["600K", "800 K"] (TOML) and 600K, 800K (YAML text): the runs of [600, 800]."""
    good = planned(folder / "first.toml")
    path = folder / "first.toml"
    path.write_text(GOOD.replace("[600, 800]", '["600K", "800 K"]'))
    assert planned(path) == good
    yaml = folder / "first.yaml"
    yaml.write_text('name: first\noutput: runs\nstructures: [structs/fcc.cif, structs/POSCAR]\n'
                    'models: [models/morse.pt]\ntemperatures: 600K, 800K\nreplicas: 1\n'
                    'protocol:\n  name: conductivity\n  duration_ps: 0.3\n  discard_ps: 0.1\n'
                    '  dump_every: 10\n  thermo_every: 10\n  restart_every: 100\n'
                    '  supercell: none\nanalysis:\n  fit_start_ps: 0.05\n')
    assert planned(yaml) == good
    # a unit that is not kelvin is still refused, on its line
    path.write_text(GOOD.replace("[600, 800]", '["600C", "800C"]'))
    assert "cannot read temperatures" in refusals(path)[line_of(path, "600C")]


def test_home_folder_in_paths(folder, monkeypatch):
    """'~' is the home folder, as in a shell: ~/models/morse.pt and ~/runs."""
    good = planned(folder / "first.toml")
    monkeypatch.setenv("HOME", str(folder))
    path = folder / "elsewhere" / "first.toml"
    path.parent.mkdir()
    path.write_text(GOOD.replace('"runs"', '"~/runs"')
                    .replace('"structs/', '"~/structs/').replace('"models/', '"~/models/'))
    assert planned(path) == good


def test_a_unit_in_a_numbers_name_says_what_to_write(folder):
    path = folder / "first.toml"
    path.write_text(GOOD.replace("supercell = \"none\"", 'supercell = "none"\ntimestep_fs = "2fs"'))
    said = refusals(path)[line_of(path, "timestep_fs")]
    write = re.search(r"write (\S+)$", said).group(1)
    path.write_text(GOOD.replace("supercell = \"none\"", f'supercell = "none"\ntimestep_fs = {write}'))
    assert load_campaign(path, check_resources=False).protocol.timestep_fs == 2.0


def test_too_short_a_run_is_told_the_campaign_key(folder):
    path = folder / "first.toml"
    text = GOOD.replace("discard_ps = 0.1", "discard_ps = 10")
    path.write_text(text)
    (message,) = refusals(path).values()
    time_line = re.search(r'(time = "[0-9.]+ps") in a campaign file', message).group(1)
    path.write_text(text.replace("duration_ps = 0.3", time_line))
    assert load_campaign(path, check_resources=False).protocol.duration_ps > 10


def test_a_refused_file_leaves_the_runs_as_they_are(folder, capsys):
    path = folder / "first.toml"
    path.write_text(GOOD.replace('"structs/POSCAR"', ""))
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    runs = sorted(folder.glob("runs/**/status.json"))
    assert len(runs) == 2
    before = {f: f.read_bytes() for f in folder.glob("runs/**/*") if f.is_file()}
    path.write_text(GOOD.replace('"structs/POSCAR"', "").replace("replicas =", "replica =")
                    .replace("[600, 800]", '["600K", "900K"]'))
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 1
    assert "did you mean 'replicas'?" in capsys.readouterr().err
    assert {f: f.read_bytes() for f in folder.glob("runs/**/*") if f.is_file()} == before


def test_an_output_that_is_a_file(folder):
    """output = "structs/POSCAR" (a file): refused on its line; before, submit ended in a
    NotADirectoryError traceback from mkdir."""
    path = folder / "first.toml"
    path.write_text(GOOD.replace('output = "runs"', 'output = "structs/POSCAR"'))
    said = refusals(path)[line_of(path, "output =")]
    assert said.startswith(f"output 'structs/POSCAR' is the file {folder / 'structs' / 'POSCAR'}, "
                           f"not a folder")
    assert (folder / "structs" / "POSCAR").is_file()


@pytest.mark.parametrize("given", ['["conductivity"]', "{kind = 1}"])
def test_a_protocol_name_that_is_no_text(folder, given):
    """name = ["conductivity"] in [protocol]: refused on its line (was a TypeError
    traceback, 'unhashable type: list')."""
    path = folder / "first.toml"
    path.write_text(GOOD.replace('name = "conductivity"', f"name = {given}"))
    said = refusals(path)[line_of(path, f"name = {given}")]
    assert said.startswith("unknown protocol") and "choose one of conductivity" in said
