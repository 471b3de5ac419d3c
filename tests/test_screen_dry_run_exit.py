"""``ionmd screen --dry-run`` exited 0 with refused files in its table (a file that cannot be
read, a structure without the mobile ion, one over ``--max-points``), while the screen of
the same inputs exits 3: a script that checks the plan first took it for a clean one. The dry
run now exits with the status the screen gives; the screen itself is the reference."""

from __future__ import annotations

import pytest
from ase.build import bulk
from ase.io import write
from ionmd.cli import main


def _screen(model, files, out, *args) -> int:
    return main(["screen", *map(str, files), "--model", str(model), "--spacing", "0.7",
                 "-o", str(out), *args])


@pytest.fixture
def files(tmp_path):
    write(tmp_path / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.14))
    write(tmp_path / "NaCl.cif", bulk("NaCl", "rocksalt", a=5.64))      # no Li: refused
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a 3\n")  # cannot read
    return {p.stem: p for p in tmp_path.glob("*.cif")}


@pytest.mark.parametrize("names, extra", [
    (["LiCl"], []),                                   # every structure screened: 0
    (["LiCl", "NaCl"], []),                           # one refused: 3
    (["LiCl", "broken"], []),                         # one unreadable: 3
    (["NaCl", "broken"], []),                         # every input fails: 3
    (["LiCl"], ["--max-points", "5"]),                # over --max-points: 3
])
def test_dry_run_exits_as_the_screen_does(tiny_f64, files, tmp_path, names, extra, capsys):
    inputs = [files[n] for n in names]
    dry = _screen(tiny_f64, inputs, tmp_path / "dry", "--dry-run", *extra)
    said = capsys.readouterr().err
    assert not (tmp_path / "dry").exists()                      # a dry run writes nothing
    real = _screen(tiny_f64, inputs, tmp_path / "real", *extra)
    assert dry == real
    if real:
        assert "the screen would exit with status 3" in said
