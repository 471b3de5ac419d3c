"""Thermo tables whose header does not start with ``Step`` (``thermo_style custom elapsed
step temp pe``, ``time step ...``, ``temp pe step``), read from real LAMMPS runs and
checked against the same runs' ``fix print`` of step, temperature and energy.

Before, only a header starting with ``Step`` opened a block: these logs gave an empty
table, and a header without any Step column did so silently.
"""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.run_inputs import read_logs
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.errors import EXIT_ERROR, AnalysisError
from ionmd.lammps.thermo_log import parse_thermo, thermo_steps
from lammps_runner import run_lmp

LJ = """units lj
lattice fcc 0.8442
region box block 0 3 0 3 0 3
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 1.44 87287 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
fix 1 all nve
thermo 10
fix p all print 10 "PRINTED $(step) $(temp:%.12g) $(pe:%.12g)" file printed.txt screen no
"""

#: (thermo_style, run length) of the runs, one after another
RUNS = [("elapsed step temp pe", 30), ("time step temp pe", 20), ("temp pe step", 20),
        ("step temp pe", 20)]


def _printed(folder) -> dict[int, tuple[float, float]]:
    rows = {}
    for line in (folder / "printed.txt").read_text().splitlines():
        p = line.split()
        if p[:1] == ["PRINTED"]:
            rows[int(p[1])] = (float(p[2]), float(p[3]))
    return rows


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("thermo_orders")
    script = LJ + "".join(f"thermo_style custom {style}\nrun {n}\n" for style, n in RUNS)
    run_lmp(script, folder)
    return folder


def test_rows_are_lammps_own_whatever_the_column_order(runs):
    thermo = parse_thermo((runs / "log.lammps").read_text())
    printed = _printed(runs)
    steps = thermo["Step"].astype(int)
    assert steps.tolist() == list(range(0, sum(n for _, n in RUNS) + 1, 10))
    # fix print writes at its multiples of 10 during each run: every such step is a row
    assert set(printed) <= set(steps.tolist()) and len(printed) >= 8
    for step, (temp, pe) in printed.items():
        k = int(np.flatnonzero(steps == step)[0])
        assert thermo["Temp"][k] == pytest.approx(temp, rel=1e-6)
        assert thermo["PotEng"][k] == pytest.approx(pe, rel=1e-6, abs=1e-7)


def test_thermo_steps_reads_the_step_column(runs):
    steps, _ = thermo_steps((runs / "log.lammps").read_text().splitlines(), None)
    assert sorted(set(steps)) == list(range(0, 91, 10))
    assert steps[:4] == [0, 10, 20, 30]          # Elapsed first: its values are no steps


@pytest.fixture(scope="module")
def stepless(tmp_path_factory):
    """A hand run (data file, dump, log) whose thermo_style prints no step."""
    folder = tmp_path_factory.mktemp("stepless")
    # argon-like LJ in units metal (A): the analysis refuses other length units first
    metal = (LJ.replace("units lj", "units metal").replace("lattice fcc 0.8442", "lattice fcc 5.26")
             .replace("mass 1 1.0", "mass 1 39.95").replace("velocity all create 1.44",
                                                           "velocity all create 50.0")
             .replace("pair_coeff 1 1 1.0 1.0 2.5", "pair_coeff 1 1 0.0104 3.40 8.5")
             .replace("pair_style lj/cut 2.5", "pair_style lj/cut 8.5"))
    run_lmp(metal + "write_data lj.data\ndump d all custom 10 lj.dump id type x y z\n"
                    "thermo_style custom temp pe\nrun 20\n", folder)
    return folder


def test_a_block_without_step_leaves_the_others(tmp_path):
    """A long run, then one whose thermo_style prints no step: the first run's rows stay
    (its rows lie 100 steps apart, the second's loop line counts 20: no rerun's)."""
    run_lmp(LJ + "run 100\nthermo_style custom temp pe\nrun 20\n", tmp_path)
    thermo = parse_thermo((tmp_path / "log.lammps").read_text())
    printed = _printed(tmp_path)
    assert thermo["Step"].astype(int).tolist() == list(range(0, 101, 10))
    assert thermo.stepless == ["Temp PotEng"]
    for k, step in enumerate(range(10, 101, 10)):
        assert thermo["Temp"][k + 1] == pytest.approx(printed[step][0], rel=1e-6)


def test_a_table_without_step_is_refused_with_the_fix(stepless, capsys):
    text = (stepless / "log.lammps").read_text()
    assert "PotEng" in text and "Step" not in text        # what LAMMPS printed
    thermo = parse_thermo(text)
    assert "Step" not in thermo and thermo.stepless == ["Temp PotEng"]
    spec = load_run_spec(stepless, {"timestep_fs": 1.0, "temperature_K": 300.0})
    with pytest.raises(AnalysisError, match=r"no Step column.*add 'step' to thermo_style"):
        read_logs(spec)
    assert main(["analyze", str(stepless), "--failures-only", "--timestep-fs", "1",
                 "--temperature", "300", "--type-map", "1=Li"]) == EXIT_ERROR
    assert "add 'step' to thermo_style" in capsys.readouterr().err
