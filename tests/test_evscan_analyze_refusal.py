"""`ionmd analyze` on the folder `ionmd run ev-scan` wrote (single points, no MD) says
what the folder is and where its results are, not to list a trajectory in run.json."""

from __future__ import annotations

from ase.io import write

from ionmd.cli import main
from protocol_setup import fcc_cell, morse_model


def test_analyze_names_an_ev_scan_folder(tmp_path, capsys):
    write(tmp_path / "POSCAR", fcc_cell(), format="vasp")
    main(["run", "ev-scan", str(tmp_path / "POSCAR"), "--model",
          str(morse_model(tmp_path / "morse.pt")), "-o", str(tmp_path / "ev"),
          "--set", "n_points=5"])
    (ev_json,) = (tmp_path / "ev").rglob("ev.json")
    capsys.readouterr()
    code = main(["analyze", str(ev_json.parent), "-o", str(tmp_path / "an")])
    err = capsys.readouterr().err
    assert code == 1
    # the old message: "no trajectory (looked for *.dcd ...); list it under 'trajectory'"
    assert "E-V scan" in err and "ev.json" in err and "list it under" not in err, err
