"""The layers of docs/architecture.md: no module of pypkg/ionmd imports a layer above its
own or beside it (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pypkg" / "ionmd"

# rank of each top-level module or subpackage of ionmd; a module may import lower ranks only
LAYERS = {
    "errors": 0,
    "ionmd": 1, "_plugin": 1, "_ops": 1, "_lazy": 1, "host_memory": 1, "suggest": 1, "cores": 1,
    "strict_json": 1, "file_locks": 1,
    "structures": 2, "lammps": 2, "export": 2,
    "analysis": 3, "screen": 3, "bench": 3,
    "protocols": 4,
    "sweep": 5,
    "cli": 6,
}


def _layer(module: str) -> str:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else parts[0]
    if name == "__init__":                                 # ionmd/__init__.py
        return "ionmd"
    return name


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "ionmd":
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ionmd":
                    yield node.lineno, alias.name


def test_every_module_has_a_layer():
    tops = {_layer("ionmd." + p.relative_to(PACKAGE).with_suffix("").parts[0])
            for p in PACKAGE.rglob("*.py")}
    assert tops <= set(LAYERS), f"add {sorted(tops - set(LAYERS))} to LAYERS and docs/architecture.md"


def test_no_module_imports_a_layer_above_or_beside_it():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        own = _layer(".".join(rel.parts))
        for line, module in _imports(path):
            other = _layer(module)
            if other != own and LAYERS[other] >= LAYERS[own]:
                wrong.append(f"{rel}.py:{line} ({own}, layer {LAYERS[own]}) imports {module} "
                             f"({other}, layer {LAYERS[other]})")
    assert not wrong, "\n".join(wrong)
