"""``ionmd screen --dry-run`` summed the atom evaluations of every structure, also of those
over ``--max-points``, which the screen refuses (an error row): a 192-atom garnet flagged
there supplied 7.64e7 of a total of 8.92e7, so its hours estimate was ~6x what the screen
would run, and the model was timed on that refused cell. The total now holds only what
will be screened, and a flagged row says it is left out."""

from ase.build import bulk
from ase.io import write

from ionmd.cli import main


def _rows(stdout: str) -> dict[str, str]:
    lines = stdout.splitlines()
    start = next(k for k, ln in enumerate(lines) if ln.startswith("structure"))
    return {ln.split()[0]: ln for ln in lines[start + 1:] if not ln.startswith("total ")}


def test_the_total_leaves_out_what_max_points_refuses(tiny_f64, tmp_path, capsys):
    small, big = tmp_path / "LiF.cif", tmp_path / "LiCl.cif"
    write(small, bulk("LiF", "rocksalt", a=4.03))
    write(big, bulk("LiCl", "rocksalt", a=5.14) * (2, 2, 2))
    args = ["screen", str(small), str(big), "--model", str(tiny_f64), "--spacing", "0.7",
            "-o", str(tmp_path / "out"), "--dry-run"]
    assert main(args) in (0, None)
    rows = _rows(capsys.readouterr().out)
    evals = {name: int(line.split()[5]) for name, line in rows.items()}
    limit = (min(evals.values()) + max(evals.values())) // 2    # between the two
    assert main([*args, "--max-points", str(limit)]) == 3     # LiCl refused, as the screen
    out = capsys.readouterr().out
    rows = _rows(out)
    assert "refused, not in the total" in rows["LiCl"] and "refused" not in rows["LiF"]
    total = float(next(ln for ln in out.splitlines() if ln.startswith("total ")).split()[1])
    assert total == float(rows["LiF"].split()[6])              # LiF's atom evaluations only
