"""What a screen says of a structure, in its rows and in a batch job's log.

- An error that is none of ionmd's own (a TypeError of a bug, an unforeseen input) was a
  row reading 'TypeError: unsupported operand ...' beside the structure's name, which
  looks like the input's fault and names nothing to find the bug by; the batch still goes
  on, and the row and the warning now say where the error was raised. ionmd's own errors
  (which say what to do) carry no traceback.
- The log's 'screening (N atoms)' gave the input's atom count, not the screened cell's: the
  cubic LiF file (8 atoms) is screened in its 2-atom primitive cell, 4 atoms with
  --min-image-distance 4 (ASE's own primitive cell and repetition are the reference).
"""

from __future__ import annotations

import json

from ase.build import bulk
from ase.io import write

from ionmd.cli import main


def screen(paths, model, out, *extra) -> int:
    return main(["screen", *map(str, paths), "--model", str(model), "--spacing", "0.7",
                 "-o", str(out), *extra])


def rows_of(out) -> dict:
    return {r["name"]: r for r in json.loads((out / "screen.json").read_text())}


def test_an_error_of_a_bug_says_where_it_was_raised(tiny_f64, tmp_path, monkeypatch, capsys):
    import ionmd.screen.screen as scr

    write(tmp_path / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.14))
    write(tmp_path / "NaCl.cif", bulk("NaCl", "rocksalt", a=5.64))   # no Li: ionmd refuses

    def aggregate(*args, **kwargs):          # a bug in our own code
        return None + 1

    monkeypatch.setattr(scr, "aggregate", aggregate)
    out = tmp_path / "out"
    assert screen([tmp_path / "LiCl.cif", tmp_path / "NaCl.cif"], tiny_f64, out) == 3
    rows = rows_of(out)
    bug, refused = rows["LiCl"], rows["NaCl"]
    assert (bug["status"], bug["stage"], bug["error_type"]) == ("error", "screen", "TypeError")
    # innermost call first: this file's aggregate, called from screen_structure
    first, second = bug["traceback"].split(" <- ")[:2]
    assert first.startswith("tests/test_screen_batch_unexpected_errors.py:")
    assert first.endswith(" in aggregate")
    assert second.startswith("screen/screen.py:") and second.endswith(" in screen_structure")
    err = capsys.readouterr().err
    assert "not an error ionmd checks for, raised at tests/test_screen_batch_unexpected" in err
    # ionmd's own refusal says what to do, and carries no traceback
    assert refused["status"] == "error" and "traceback" not in refused
    assert "Li" in refused["error"]


def test_the_log_line_gives_the_screened_cells_size(tiny_f64, tmp_path, capsys):
    cubic = bulk("LiF", "rocksalt", a=4.03, cubic=True)
    primitive = bulk("LiF", "rocksalt", a=4.03)
    assert (len(cubic), len(primitive)) == (8, 2)
    write(tmp_path / "LiF.cif", cubic)
    widths = 1 / (primitive.cell.reciprocal() ** 2).sum(axis=1) ** 0.5
    repeat = [int(-(-4.0 // w)) for w in widths]        # planes >= 4 A apart
    assert sorted(repeat) == [2, 2, 2]

    assert screen([tmp_path / "LiF.cif"], tiny_f64, tmp_path / "a") == 0
    assert ("ionmd: LiF: screening (2 atoms: the 2-atom primitive cell; the input has 8)"
            in capsys.readouterr().err.splitlines())
    assert screen([tmp_path / "LiF.cif"], tiny_f64, tmp_path / "b",
                  "--min-image-distance", "4") == 0
    assert ("ionmd: LiF: screening (16 atoms: the 2-atom primitive cell x 2x2x2; the input "
            "has 8)" in capsys.readouterr().err.splitlines())
