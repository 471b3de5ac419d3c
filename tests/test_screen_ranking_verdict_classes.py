"""examples/screen_ranking.py's verdict claims nothing where one class was not screened:
two poor binaries alone (``--only LiCl LiF``, SevenNet-0 at 0.5 A: LiF MPE 7.277 eV, LiCl
4.856 eV) printed ``fast_above_poor: true`` with no fast conductor among them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "screen_ranking.py"


def load_example():
    spec = importlib.util.spec_from_file_location("screen_ranking_verdict", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verdict_with_poor_conductors_only_compares_nothing():
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
