"""``ionmd analyze`` reads each LAMMPS log once. Before, ``load_run_spec`` read it three
times (the partition check, the texts the settings come from, the pair lines of a run
without a recorded model) and the analysis (``read_logs``) a fourth: now the texts read
once ride on the RunSpec (``log_text``). Counted at every way a file is opened
(``Path.open``, which ``read_text`` goes through, and ``open``) on a real LAMMPS run; what
the texts feed is checked against the run's own input (its pair lines, its thermo rows)."""

from __future__ import annotations

import builtins
import json
import pathlib

import numpy as np
import pytest

from ionmd.cli import main
from ionmd.lammps.thermo_log import parse_thermo_pieces
from lammps_runner import LJ_DCD_RUN_JSON, lj_dcd_run

PAIR = "pair_style lj/cut 6.0; pair_coeff * * 0.05 2.6; pair_coeff 1 1 0.01 2.0"


@pytest.fixture(scope="module")
def lj_run(tmp_path_factory):
    """108 LJ atoms at 1500 K, a DCD and its log; run.json names no model."""
    run = tmp_path_factory.mktemp("lj")
    lj_dcd_run(run, thermo_every=20)
    (run / "run.json").write_text(json.dumps(LJ_DCD_RUN_JSON))
    return run


@pytest.fixture
def log_opens(monkeypatch):
    """The opens of any file named log.lammps since the fixture was made."""
    opened = []
    path_open, plain_open = pathlib.Path.open, builtins.open

    def counted_path_open(self, *args, **kwargs):
        if self.name == "log.lammps":
            opened.append(("Path.open", self))
        return path_open(self, *args, **kwargs)

    def counted_open(file, *args, **kwargs):
        if isinstance(file, (str, pathlib.PurePath)) and pathlib.Path(file).name == "log.lammps":
            opened.append(("open", file))
        return plain_open(file, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", counted_path_open)
    monkeypatch.setattr(builtins, "open", counted_open)
    return opened


def test_analyze_reads_the_log_once(lj_run, tmp_path, log_opens, capsys):
    assert main(["analyze", str(lj_run), "--output", str(tmp_path / "out"),
                 "--fit-start-ps", "0.1"]) in (None, 0)
    assert len(log_opens) == 1, log_opens
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["runs"], summary


def test_the_one_read_feeds_the_spec_and_the_thermo(lj_run, log_opens):
    from ionmd.analysis.run_inputs import read_logs
    from ionmd.analysis.run_spec import load_run_spec

    spec = load_run_spec(lj_run)
    thermo, texts = read_logs(spec)
    assert len(log_opens) == 1, log_opens
    text = (lj_run / "log.lammps").read_text()
    assert texts == [text]
    assert spec.potential == PAIR           # the input's pair lines, as written
    # the thermo rows as the log's own parse gives them: steps 0..400 every 20
    np.testing.assert_array_equal(thermo["Step"], parse_thermo_pieces([text])["Step"])
    np.testing.assert_array_equal(thermo["Step"], np.arange(0, 401, 20))
