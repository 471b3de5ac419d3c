"""``ionmd sweep status``: a header and columns as wide as their cells. Before, the rows
had fixed widths (class 16, step 8, job 14) and no header: a SLURM array job id with its
state (``123456789_1023 (pending)``) or a step count of 10 digits pushed the run path
right, row by row. Read back here by the header words' offsets, as a reader's eye does."""

from __future__ import annotations

import json
import re

import pytest

from ionmd.cli import main
from sweep_setup import campaign_dir, write_campaign

ROWS = [
    {"run": "runs/a-very-long-structure-name_with_parts/model/conductivity/T600K/r0",
     "class": "completed", "step": 2147483647, "planned_steps": 2147483647, "pieces": 12,
     "reason": None, "stopping": None, "job": "123456789_1023", "job_state": None,
     "note": None, "logs": []},
    {"run": "runs/b/m/conductivity/T900K/r0", "class": "failed-physical", "step": 10,
     "planned_steps": 500, "pieces": 1, "reason": "fix halt: volume changed by 60 %",
     "stopping": None, "job": "7_3", "job_state": "PENDING", "note": None,
     "logs": ["runs/b/m/conductivity/T900K/r0/log.lammps"]},
    {"run": "runs/c/m/conductivity/T1200K/r0", "class": "pending", "step": 0,
     "planned_steps": 500, "pieces": 0, "reason": None, "stopping": None, "job": None,
     "job_state": None, "note": None, "logs": []},
]


def read_back(lines: list[str]) -> tuple[list[str], list[list[str]], dict[int, list[str]]]:
    """The header words, each row cut at the header words' offsets, and the indented
    lines below each row."""
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    rows, below = [], {}
    for line in lines[1:]:
        if line.startswith(" "):
            below.setdefault(len(rows) - 1, []).append(line.strip())
            continue
        for s in starts[1:]:            # a cell starts at its header word, after a space
            assert line[s - 1] == " " and line[s] != " ", (line, s)
        rows.append([line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])])
    return header.split(), rows, below


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, morse):
    return write_campaign(campaign_dir(tmp_path_factory.mktemp("status"), morse))


def test_columns_follow_the_header(campaign, monkeypatch, capsys):
    import ionmd.sweep.submit as submit

    monkeypatch.setattr(submit, "campaign_status", lambda c: [dict(r) for r in ROWS])
    assert main(["sweep", "status", str(campaign)]) == 0
    counts, *table = capsys.readouterr().out.splitlines()
    assert counts == "1 completed, 1 pending, 1 failed-physical (of 3)"
    header, rows, below = read_back(table)
    assert header == ["state", "step", "planned", "pieces", "job", "run"]
    assert rows == [
        ["completed", "2147483647", "2147483647", "12", "123456789_1023", ROWS[0]["run"]],
        ["failed-physical", "10", "500", "1", "7_3 (pending)", ROWS[1]["run"]],
        ["pending", "0", "500", "0", "-", ROWS[2]["run"]],
    ]
    assert below == {1: ["fix halt: volume changed by 60 %",
                         "logs: runs/b/m/conductivity/T900K/r0/log.lammps"]}
    # --json is the rows as they are
    assert main(["sweep", "status", str(campaign), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == ROWS
