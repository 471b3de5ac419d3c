"""README.md's "Running protocols" block, run literally from a fresh folder (the repository
root's files at hand, as after `source .venv/bin/activate`): every structure its `ionmd run`
lines name is there to read. Before, the block named `Li3YCl6.cif` without a line making it,
and `ionmd run ... Li3YCl6.cif` in any folder but one holding that file was refused
("structure file 'Li3YCl6.cif' does not exist"; audit A23)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

from ionmd.structures import read_structure

ROOT = Path(__file__).resolve().parents[1]


def _block(title: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {title}", 1)[1]
    body = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [ln.split("#")[0].strip() for ln in body.splitlines() if ln.split("#")[0].strip()]


def test_running_protocols_block_reads_its_structures_from_a_fresh_folder(tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = _block("Running protocols")
    runs = [shlex.split(ln) for ln in lines if ln.startswith("ionmd run ")]
    assert len(runs) >= 4
    for line in lines:                     # the block's own file commands, from the root
        words = shlex.split(line)
        if words[0] == "cp":
            source, dest = words[1:]
            shutil.copy(ROOT / source, tmp_path / dest)
    for argv in runs:
        structure = argv[3]                # ionmd run PROTOCOL STRUCTURE ...
        cell = read_structure(structure)
        assert cell.composition.reduced_formula == "Li3YCl6", (argv, cell.composition)
