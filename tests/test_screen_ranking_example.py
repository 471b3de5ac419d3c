"""examples/screen_ranking.py: the fast-vs-poor verdict, and one small run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "screen_ranking.py"


def load_example():
    import importlib.util

    spec = importlib.util.spec_from_file_location("screen_ranking", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verdict_lists_every_inversion():
    ex = load_example()
    rows = [{"name": "Li3YCl6", "status": "ok", "xi": 0.3, "mpe_eV": 0.6},
            {"name": "LiF", "status": "ok", "xi": 0.5, "mpe_eV": 7.0},
            {"name": "Li2O", "status": "ok", "xi": 0.0, "mpe_eV": None},   # never percolates
            {"name": "LiCl", "status": "error", "error": "x"}]
    v = ex.verdict(rows)
    assert v["mpe"] == {"fast_above_poor": True, "inversions": []}
    assert v["xi"] == {"fast_above_poor": False, "inversions": [("Li3YCl6", "LiF")]}



def test_verdict_with_poor_conductors_only_compares_nothing():
    """The verdict claims nothing where one class was not screened: two poor binaries
    alone (``--only LiCl LiF``, SevenNet-0 at 0.5 A: LiF MPE 7.277 eV, LiCl 4.856 eV)
    printed ``fast_above_poor: true`` with no fast conductor among them."""
    ex = load_example()
    rows = [{"name": "LiF", "status": "ok", "xi": 0.074, "mpe_eV": 7.277},
            {"name": "LiCl", "status": "ok", "xi": 0.002, "mpe_eV": 4.856},
            {"name": "Li3N", "status": "error", "error": "x"}]   # a fast one that failed
    for key in ("xi", "mpe"):
        assert ex.verdict(rows)[key]["fast_above_poor"] is None
        assert "no fast conductor" in ex.verdict(rows)[key]["why"]


def test_verdict_with_fast_conductors_only_compares_nothing():
    ex = load_example()
    rows = [{"name": "Li3YCl6", "status": "ok", "xi": 0.0, "mpe_eV": 0.62}]
    assert ex.verdict(rows)["mpe"]["fast_above_poor"] is None
    assert "no poor conductor" in ex.verdict(rows)["mpe"]["why"]

def test_small_run_writes_a_ranking(tiny_f64, tmp_path):
    out = tmp_path / "rank"
    proc = subprocess.run([sys.executable, str(EXAMPLE), "--model", str(tiny_f64), "--only",
                           "LiCl", "Li3N", "--spacing", "0.8", "-o", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "ranking.json").read_text())
    rows = {r["name"]: r for r in report["dilute"]["rows"]}
    assert set(rows) == {"LiCl", "Li3N"} and all(r["status"] == "ok" for r in rows.values())
    assert rows["LiCl"]["repeat"] == "2x2x2" and rows["LiCl"]["natoms"] == 16   # >= 5.5 A
    assert "note" not in rows["LiCl"]
    assert set(report["dilute"]["verdict"]) == {"xi", "mpe"}
    assert "fast" in proc.stdout and "poor" in proc.stdout
