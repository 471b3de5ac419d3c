"""README.md's Layout table names every example a user may run: each file of examples/
(and examples/peers/) in the `examples/` row. (It left out demo.py, campaign.toml,
check_lammps_versions.sh, the two stopping-rule coverage scripts, screen_vs_measured.py and
peers/e3gnn_build.sh.)"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def layout_row(path: str) -> str:
    row = re.search(r"^\| `%s` \|(.*)\|$" % re.escape(path), (ROOT / "README.md").read_text(), re.M)
    assert row, f"README.md's Layout table has no `{path}` row"
    return row.group(1)


def test_every_example_is_in_the_layout_table():
    named = set(re.findall(r"`([\w./-]+)`", layout_row("examples/")))
    files = [p.relative_to(ROOT / "examples").as_posix()
             for p in sorted((ROOT / "examples").rglob("*"))
             if p.is_file() and p.suffix in (".py", ".sh", ".toml") and "__pycache__" not in p.parts]
    missing = [f for f in files if f not in named]
    assert files and not missing, f"examples README.md's Layout table does not name: {missing}"
