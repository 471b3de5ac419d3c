"""LAMMPS logs of runs written by hand, as LAMMPS writes them whatever ``echo`` says: a
minimisation, MD (two ``run`` blocks) and a ``rerun`` of its dump. With ``echo none`` (in
the input, or ``-echo none`` on the command line) nothing names the minimisation or the
rerun; their rows are no MD rows all the same, for the thermo table (:func:`parse_thermo`),
for the live count of a running LAMMPS (:func:`thermo_steps`) and for the thermo spacing
:func:`find_lost_atoms` reckons with. Before, under ``echo none`` the rerun's rows (the
dump's steps 0-30 again, one temperature) superseded the MD's, the live count ended at the
rerun's step 30, and a minimisation's rows set the thermo spacing (step 12 for LAMMPS's 100).

References: LAMMPS's own MD rows (``fix print`` during the MD only) and, for a loss, the
step LAMMPS prints after ``thermo_modify lost warn`` in the same run."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from lammps_runner import lammps_cmd, write_data
from protocol_setup import fcc_cell

from ionmd.lammps.lost_atoms import find_lost_atoms
from ionmd.lammps.thermo_log import parse_thermo, parse_thermo_pieces, thermo_steps

HEAD = """units metal
atom_style atomic
read_data struct.data
pair_style morse 6.0
pair_coeff * * 0.3 1.5 2.8
thermo_style custom step temp pe press vol
"""
MD = HEAD + """thermo 10
minimize 1.0e-10 1.0e-6 60 600
reset_timestep 0
velocity all create 600 4928 mom yes rot yes dist gaussian
timestep 0.002
fix 1 all nvt temp 600 600 0.1
fix p all print 10 "MDROW $(step) $(temp:%.12g)" file md_rows.txt screen no
dump d all custom 10 md.dump id type x y z
run 40
run 20
unfix p
undump d
unfix 1
rerun md.dump last 30 dump x y z
"""
# LAMMPS's echo of the input: as it logs by default, `echo none` in the input, on the line
ECHO = {"default": ([], ""), "input": ([], "echo none\n"), "command line": (["-echo", "none"], "")}


def lmp(folder, script: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    (folder / "in.lmp").write_text(script)
    proc = subprocess.run(lammps_cmd() + ["-in", "in.lmp", *args], cwd=folder, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert not check or proc.returncode == 0, proc.stdout[-3000:]
    return proc


def cell(folder, rattle: float = 0.05):
    atoms = fcc_cell(a=3.55)              # strained: the minimiser takes a few steps
    atoms.rattle(rattle, seed=1)
    write_data(atoms, folder / "struct.data", ["Li", "Cl"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{echo: (log text, screen text, LAMMPS's MD rows (step, temp))}."""
    out = {}
    for name, (args, first) in ECHO.items():
        folder = tmp_path_factory.mktemp(name.replace(" ", "_"))
        cell(folder)
        screen = lmp(folder, first + MD, *args).stdout
        rows = np.loadtxt(folder / "md_rows.txt", usecols=(1, 2))
        out[name] = ((folder / "log.lammps").read_text(), screen, rows)
    return out


def md_rows_of_lammps(rows: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Steps and temperatures of LAMMPS's MD rows as fix print wrote them (at each run's
    setup too: the step where one run follows another twice, one state)."""
    steps, first = np.unique(rows[:, 0].astype(int), return_index=True)
    return steps.tolist(), rows[first, 1]


@pytest.mark.parametrize("echo", ECHO)
def test_thermo_is_the_md_whatever_echo(runs, echo):
    log, screen, rows = runs[echo]
    assert ("rerun md.dump" in log) == (echo == "default")   # nothing names it otherwise
    assert log.count("Minimization stats:") == 1
    steps, temps = md_rows_of_lammps(rows)
    assert steps == list(range(0, 61, 10))
    for text in (log, screen):
        thermo = parse_thermo(text)
        assert thermo["Step"].tolist() == steps
        np.testing.assert_allclose(thermo["Temp"], temps, rtol=1e-7)


@pytest.mark.parametrize("echo", ECHO)
def test_live_count_ends_at_the_mds_last_step(runs, echo):
    log, screen, _ = runs[echo]
    for text in (log, screen):
        lines, blocks = text.splitlines(), None
        for k in range(0, len(lines), 7):           # as a running LAMMPS writes it
            _, blocks = thermo_steps(lines[k:k + 7], blocks)
        assert blocks.md_step == 60                 # not the rerun's last snapshot, 30
        # a LAMMPS stopped at the MD's setup: the minimisation's rows are no MD rows
        before_md = text[:text.index("Step", text.index("Minimization stats:"))]
        _, read = thermo_steps(before_md.splitlines(), None)
        assert read.md_step is None


def test_a_log_appended_to_by_two_runs(tmp_path):
    """``log run.log append`` in the input, LAMMPS started twice with ``-echo none``: both
    runs' rows are in one file, the second's supersede the first's, the reruns' none."""
    cell(tmp_path)
    for _ in range(2):
        lmp(tmp_path, "log run.log append\n" + MD, "-echo", "none", "-log", "none")
    text = (tmp_path / "run.log").read_text()
    assert text.count("Minimization stats:") == 2
    steps, temps = md_rows_of_lammps(np.loadtxt(tmp_path / "md_rows.txt", usecols=(1, 2)))
    for thermo in (parse_thermo(text), parse_thermo_pieces([text])):
        assert thermo["Step"].tolist() == steps
        np.testing.assert_allclose(thermo["Temp"], temps, rtol=1e-7)


LOSS = HEAD + """thermo 100
minimize 1.0e-10 1.0e-6 60 600
reset_timestep 0
change_box all boundary p p f
velocity all create 300 4928 mom yes rot yes dist gaussian
group kick id 1
velocity kick set 0 0 -50
timestep 0.002
fix 1 all nve
thermo_modify lost {lost}
run 300
"""


def test_lost_atoms_after_a_minimisation_under_echo_none(tmp_path):
    """Atoms leave through a fixed z boundary after the MD's first row (step 0): the
    output that finds them is at step 100 (``thermo 100``, not echoed); the minimisation's
    rows, 12 steps apart, are no thermo spacing (was dated step 12)."""
    cell(tmp_path)
    warned = lmp(tmp_path, LOSS.format(lost="warn"), "-echo", "none").stdout
    lammps_step = int(re.search(r"WARNING: Lost atoms.*\n(?:.*\n)*?\s*(\d+)\s", warned).group(1))
    assert lammps_step == 100
    proc = lmp(tmp_path, LOSS.format(lost="error"), "-echo", "none", check=False)
    log = (tmp_path / "log.lammps").read_text()
    assert proc.returncode != 0 and "ERROR: Lost atoms" in log and "thermo 100" not in log
    assert re.search(r"for (\d+) steps", log).group(1) != "100"    # the minimiser's rows
    lost = find_lost_atoms(log, thermo_every=100)
    assert (lost.after_row, lost.step) == (0, lammps_step)


HALTED = HEAD + """thermo 10
velocity all create 600 4928 mom yes rot yes dist gaussian
timestep 0.002
fix 1 all nvt temp 600 600 0.1
run 25 post no
variable t equal temp
fix h all halt 1 v_t > 100 error continue
run 40
unfix h
run 0
"""


def test_runs_that_stop_early_or_print_no_statistics_are_md(tmp_path):
    """Blocks whose loop line is alone (``run N post no``, as a rerun's) or counts more
    steps than its rows span (``fix halt`` stopped it at step 26, one step after its only
    row) are MD: every row LAMMPS printed is kept, one per step."""
    cell(tmp_path)
    lmp(tmp_path, HALTED, "-echo", "none")
    log = (tmp_path / "log.lammps").read_text()
    assert "Fix halt condition for fix-id h met on step 26" in log
    printed = [int(m) for m in re.findall(r"^\s+(\d+)\s+\S+\s+\S+\s+\S+\s+\S+\s*$", log, re.M)]
    assert printed == [0, 10, 20, 25, 25, 26]
    assert parse_thermo(log)["Step"].tolist() == [0, 10, 20, 25, 26]
