"""Which thermo rows of a LAMMPS log are MD rows (ionmd.lammps.log.ThermoBlocks), checked
against real LAMMPS runs whose blocks span as many steps as their loop line counts, and
therefore are no rerun's, under ``echo none``; and the logs of a run on several partitions
(``-partition 2x1``: ``log.lammps.0``, ``log.lammps.1``, named as a run resumed by hand),
which were read as pieces of one run: partition 1's rows (at 900 K) superseded partition
0's (at 600 K), now refused."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from failure_nacl_runs import HEAD, POTENTIAL, lmp, nacl_dir
from lammps_runner import BIN
from test_logs_reset_timestep import blocks

# one input of MD blocks that a loop-line rule could take for a rerun's: chunks of `run
# every`, `upto` with start/stop, `run 0`, a thermo interval from a variable, `pre no post
# no`, a run resumed from its restart file after a kill's rows
MD = """velocity all create 900 1 dist gaussian
fix 1 all nvt temp 900 900 0.1
thermo 10
run 30 every 15 "print chunk"
run 60 upto start 0 stop 200
run 0
variable s equal logfreq(1,1,10)
thermo v_s
run 40
thermo 10
run 20 pre no post no
write_restart r.bin
run 20
clear
{head}
fix 1 all nvt temp 900 900 0.1
thermo 10
run 20
"""


def lammps_rows(text: str) -> np.ndarray:
    """The rows LAMMPS printed, one per step (a later block from an earlier step replaces
    the rows from there on; a block's first row repeating the step before is dropped)."""
    kept: list[np.ndarray] = []
    for block in blocks(text):
        while kept and kept[-1][0] > block[0, 0]:
            kept.pop()
        kept += [row for row in block if not kept or row[0] > kept[-1][0]]
    return np.array(kept)


def test_md_blocks_under_echo_none_are_md(tmp_path):
    from ionmd.lammps.thermo_log import parse_thermo

    run = nacl_dir(tmp_path / "nacl", temperature_K=900.0, dump_every=10)
    head = HEAD.format(start="read_restart r.bin", potential=POTENTIAL, dt=0.001)
    lmp(run, "echo none\n" + MD.format(head=head))
    text = (run / "log.lammps").read_text()
    assert "rerun" not in text and "minimiz" not in text.lower()
    printed = lammps_rows(text)
    assert printed[:, 0].tolist() == [0, 10, 15, 20, 30, 40, 50, 60, 100, 110, 120, 130, 140]
    thermo = parse_thermo(text)
    assert thermo["Step"].tolist() == printed[:, 0].tolist()
    np.testing.assert_allclose(thermo["Temp"], printed[:, 1], rtol=1e-9)
    np.testing.assert_allclose(thermo["PotEng"], printed[:, 2], rtol=1e-9)


@pytest.fixture(scope="module")
def partitions(tmp_path_factory):
    """NaCl at 600 K and 900 K side by side (``-partition 2x1``), each with its DCD."""
    run = nacl_dir(tmp_path_factory.mktemp("parts") / "nacl", temperature_K=600.0,
                   dump_every=10, trajectory=["traj.600.dcd"])
    script = HEAD.format(start="read_data struct.data", potential=POTENTIAL, dt=0.001) + (
        "variable t world 600 900\nvelocity all create $t 1 dist gaussian\n"
        "fix 1 all nvt temp $t $t 0.1\nthermo 10\ndump d all dcd 10 traj.$t.dcd\nrun 40\n")
    (run / "in.lmp").write_text(script)
    subprocess.run([str(BIN / "mpirun"), "-np", "2", str(BIN / "lmp"), "-partition", "2x1",
                    "-in", "in.lmp", "-echo", "none"], cwd=run, check=True,
                   capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return run


def test_logs_of_partitions_are_refused(partitions):
    from ionmd.analysis.run_spec import load_run_spec
    from ionmd.errors import AnalysisError

    with pytest.raises(AnalysisError, match=r"the logs are of 2 partitions of one LAMMPS run "
                       r"\(-partition; partition 0: log.lammps.0; partition 1: "
                       r"log.lammps.1\).*list its logs under 'logs'"):
        load_run_spec(partitions)


def test_one_partition_named_is_read(partitions):
    from ionmd.analysis.run_inputs import read_logs
    from ionmd.analysis.run_spec import load_run_spec

    spec = json.loads((partitions / "run.json").read_text())
    (partitions / "run.json").write_text(json.dumps({**spec, "logs": ["log.lammps.0"]}))
    try:
        thermo, _ = read_logs(load_run_spec(partitions))
    finally:
        (partitions / "run.json").write_text(json.dumps(spec))
    (rows,) = blocks((partitions / "log.lammps.0").read_text())
    assert rows[0, 1] == pytest.approx(600, rel=1e-6)
    assert thermo["Step"].tolist() == rows[:, 0].tolist()
    np.testing.assert_allclose(thermo["Temp"], rows[:, 1], rtol=1e-9)


def test_print_messages_naming_rerun_or_minimize_are_no_commands(tmp_path):
    """A ``print`` message starting with 'minimize' or 'rerun' (echoed, then printed) was
    taken for the command: the next MD block's rows (20-40) were dropped."""
    from ionmd.lammps.thermo_log import parse_thermo

    run = nacl_dir(tmp_path / "nacl", temperature_K=900.0, dump_every=10)
    lmp(run, "velocity all create 900 1 dist gaussian\nfix 1 all nvt temp 900 900 0.1\n"
             "thermo 10\nrun 20\nprint 'minimize the cell next time'\n"
             "print 'rerun the dump later'\nrun 20\nminimize 0 1e-3 5 50\n")
    text = (run / "log.lammps").read_text()
    assert "\nrerun the dump later\n" in text and "\nminimize the cell next time\n" in text
    md = lammps_rows("\n".join(text.split("minimize 0 1e-3")[:1]))    # the MD's blocks
    assert md[:, 0].tolist() == [0, 10, 20, 30, 40]
    thermo = parse_thermo(text)                        # the minimisation's rows left out
    assert thermo["Step"].tolist() == md[:, 0].tolist()
    np.testing.assert_allclose(thermo["Temp"], md[:, 1], rtol=1e-9)
