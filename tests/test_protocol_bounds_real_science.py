"""Bounds that refused real science (review r3): |P| <= 1e5 bar refused high-pressure
studies of solid electrolytes (tens of GPa in diamond-anvil cells), a supercell width of
at most 100 A and 1000 copies refused the 1-million-atom cells of docs/scaling.md (~240 A
wide), and gpus <= 16 refused nodes that show more GPUs (MIG slices, MI300X partitions).
Each new bound is still refused past it, naming the range and why."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from ionmd.errors import IonmdError
from ionmd.protocols import check_protocol, get_protocol
from ionmd.protocols.checks import check_cell
from ionmd.protocols.prepare import run_cell
from ionmd.cli import main
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import campaign_dir, line_of, write_campaign

SHORT = dict(duration_ps=0.5, discard_ps=0.1, dump_every=10, thermo_every=10,
             restart_every=100, supercell=None, tdamp_fs=50.0, pdamp_fs=500.0,
             temperatures=(600.0,))
GPA_IN_BAR = 1e4          # 1 GPa = 10^9 Pa = 10^4 bar (1 bar = 10^5 Pa)


def _protocol(**overrides):
    p = get_protocol("conductivity", **{**SHORT, **overrides})
    check_protocol(p)
    return p


def test_a_high_pressure_study_of_tens_of_gpa_is_taken():
    # a compression ramp ambient -> 50 GPa, and a run held at 20 GPa (refused before)
    ramp = _protocol(pressure_bar=1.0, pressure_end_bar=50 * GPA_IN_BAR)
    assert ramp.pressure_end_bar == 5e5
    assert _protocol(pressure_bar=20 * GPA_IN_BAR).pressure_bar == 2e5


@pytest.mark.parametrize("value", [101 * GPA_IN_BAR, -11 * GPA_IN_BAR, 101325.0e5])
def test_a_pressure_past_100_gpa_or_a_tension_past_10_gpa_is_refused(value):
    with pytest.raises(IonmdError, match=r"give >= -100000 and <= 1e\+06 bar; from -10 GPa "
                                         r".* 1 atm is 1.01325 bar, not 101325 \(that is Pa\)"):
        _protocol(pressure_bar=value)


def _perpendicular_widths(cell) -> np.ndarray:
    # volume / area of the opposite face, from the cell vectors alone
    a, b, c = np.asarray(cell)
    volume = abs(np.dot(a, np.cross(b, c)))
    return volume / np.linalg.norm([np.cross(b, c), np.cross(c, a), np.cross(a, b)], axis=1)


def test_a_million_atom_cell_can_be_asked_for_by_width():
    lic = bulk("LiCl", "rocksalt", a=5.13, cubic=True)           # 8 atoms
    protocol = _protocol(supercell="260A")
    cell = run_cell(protocol, lic)
    check_cell(protocol, cell)
    widths = _perpendicular_widths(cell.cell)
    assert widths.min() >= 260.0 and widths.min() < 260.0 + 5.13
    assert len(cell) == 8 * 51**3 > 10**6


def test_a_million_atoms_by_repeats_and_the_bounds_past_them():
    assert _protocol(supercell="46x46x46").supercell == "46x46x46"    # 97336 copies
    with pytest.raises(IonmdError, match=r"is 103823 copies of the cell: give at most 100000 "
                                         r"\(e\.g\. 46x46x46\), or a width such as 240A; a "
                                         r"1-million-atom cell"):
        _protocol(supercell="47x47x47")
    with pytest.raises(IonmdError, match=r"supercell '401A' is out of range: give a width > 0 "
                                         r"and <= 400 A \(8A is usual\); a 1-million-atom"):
        _protocol(supercell="401A")


def test_a_run_may_ask_for_more_gpus_than_16_on_its_node(tmp_path, morse):
    folder = campaign_dir(tmp_path, morse)
    path = write_campaign(folder, resources="ranks = 24\ngpus = 24",
                          executor='kind = "slurm"\npartition = "gpu"')
    assert load_campaign(path, check_resources=False).resources.gpus == 24


def test_a_negative_order_seed_is_refused_by_name(tmp_path, morse, capsys):
    # --order-seed -1 was numpy's traceback "expected non-negative integer"
    folder = campaign_dir(tmp_path, morse)
    with pytest.raises(SystemExit):
        main(["run", "conductivity", str(folder / "fcc.cif"), "--model",
              str(folder / "morse.pt"), "--order", "random", "--order-seed", "-1"])
    assert "argument --order-seed: give a whole number >= 0 (the seed of --order random" \
        in capsys.readouterr().err
    path = write_campaign(folder, extra="order = \"random\"\norder_seed = -1")
    with pytest.raises(CampaignError, match=rf"line {line_of(path, 'order_seed')}: order_seed "
                                            rf"-1 is out of range: give >= 0"):
        load_campaign(path, check_resources=False)


@pytest.fixture
def one_hour_partition(tmp_path, monkeypatch):
    """A sinfo that answers as a cluster's: partition debug, 16 CPUs, a 1-hour limit."""
    import os
    import stat

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sinfo = bin_dir / "sinfo"
    sinfo.write_text("#!/bin/sh\necho 'debug*|16|1:00:00|(null)|64000'\n")
    sinfo.chmod(sinfo.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_runs_per_job_past_the_partition_limit_is_refused(tmp_path, morse, one_hour_partition):
    # sbatch --time is walltime x runs_per_job: 2 x 40 min under a 1-hour limit was
    # accepted (the check compared 40 min), and such a job pends (PartitionTimeLimit)
    folder = campaign_dir(tmp_path, morse)
    path = write_campaign(folder, resources="ranks = 1\nwalltime = 40",
                          executor='kind = "slurm"\nruns_per_job = 2')
    with pytest.raises(CampaignError, match=rf"line {line_of(path, 'runs_per_job')}: a job of "
                                            rf"runs_per_job = 2 runs of walltime 40 min asks "
                                            rf"for 80 min, more than the time limit of partition "
                                            rf"'debug' \(1:00:00; .* lower runs_per_job to 1"):
        load_campaign(path)
    path = write_campaign(folder, name="fits", resources="ranks = 1\nwalltime = 30",
                          executor='kind = "slurm"\nruns_per_job = 2')
    assert load_campaign(path).resources.walltime_min * 2 == 60


def test_runs_per_job_of_more_than_a_year_is_refused(tmp_path, morse):
    folder = campaign_dir(tmp_path, morse)
    path = write_campaign(folder, resources='ranks = 1\nwalltime = "30d"',
                          executor='kind = "slurm"\nruns_per_job = 13')
    with pytest.raises(CampaignError, match=r"runs_per_job = 13 runs of walltime 43200 min "
                                            r"asks for 561600 min .* more than a year"):
        load_campaign(path, check_resources=False)
