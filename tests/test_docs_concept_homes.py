"""docs/architecture.md's "one home per concept" names modules the code really uses: each
dotted name it gives resolves in the package, and the home it names for the check of charges
a user gives is the module the campaign, `ionmd analyze --charges` and run.json's reader
import that check from. (It said `protocols.checks`, which holds no charge rule since
structures.charge_values became the one check.)"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "pypkg" / "ionmd"
DOC = (ROOT / "docs" / "architecture.md").read_text()
HOMES = DOC.split("One home per concept:")[1].split("C++ side")[0]
CALLERS = ["sweep/campaign_analysis.py", "cli/analyze.py", "analysis/run_spec.py"]


def resolves(dotted: str) -> bool:
    """``dotted`` (below ``ionmd``) names a module or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module("ionmd." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_every_named_home_exists():
    dotted = set(re.findall(r"`([a-z_]+\.[\w.]+)`", HOMES))
    assert dotted, "no dotted module names found in the 'one home per concept' list"
    missing = sorted(d for d in dotted if not resolves(d))
    assert not missing, f"docs/architecture.md names homes that do not exist: {missing}"


def _imported_from(path: Path, names: set[str]) -> set[str]:
    """The modules ``path`` imports any of ``names`` from."""
    return {node.module for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
            and names & {a.name for a in node.names}}


def test_charge_check_home_is_where_its_callers_import_it_from():
    sources = set().union(*(_imported_from(PKG / c, {"checked_charges", "charge_problems"})
                            for c in CALLERS))
    assert len(sources) == 1, f"the callers import the charge check from {sorted(sources)}"
    bullets = [b for b in HOMES.split("\n- ") if re.search(r"\bcharges\b", b)]
    named = {"ionmd." + m for b in bullets for m in re.findall(r"`([a-z_]+\.[\w.]+)`", b)}
    assert named == sources, (f"docs/architecture.md names {sorted(named)} as the home of "
                              f"the charge check; the code's is {sorted(sources)}")
