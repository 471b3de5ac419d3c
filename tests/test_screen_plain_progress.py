"""tqdm switches its bars off where stderr is no terminal (a batch job's log, nohup), so a
screen of hours said nothing until it ended (the audit: 9.5 min of Li3YCl6 without a line).
There a line now starts and ends each structure."""

from ase.build import bulk
from ase.io import write

from ionmd.cli import main


def test_a_log_gets_a_line_per_structure(tiny_f64, tmp_path, capsys):
    lif = tmp_path / "LiF.cif"
    write(lif, bulk("LiF", "rocksalt", a=4.03))
    assert main(["screen", str(lif), "--model", str(tiny_f64), "--spacing", "0.7",
                 "-o", str(tmp_path / "out")]) in (0, None)
    err = capsys.readouterr().err.splitlines()            # capsys: no terminal
    assert "ionmd: LiF: screening (2 atoms)" in err, err
    done = [line for line in err if line.startswith("ionmd: LiF: screened in ")]
    assert len(done) == 1 and err.index(done[0]) > err.index("ionmd: LiF: screening (2 atoms)")
