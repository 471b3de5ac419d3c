"""docs/architecture.md names every part of the code where it lives: each top-level module
or subpackage of pypkg/ionmd in its layers table at the layer tests/test_architecture.py
enforces, and each file of lmp_plugins/ (by name or a `ionmd_model*`-style pattern).
(`cores` had its layer in the test but not in the table; `ionmd_lammpsplugin.h` was in no
sentence.)"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from test_architecture import LAYERS

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text()


def documented_layers() -> dict[str, int]:
    """module -> layer, from the table rows `| N | `a`, `b` | ... |`."""
    layers = {}
    for rank, modules in re.findall(r"^\| (\d) \| ([^|]+) \|", DOC, re.M):
        for name in re.findall(r"`([\w.]+)`", modules):
            layers[name] = int(rank)
    return layers


def test_every_package_module_has_its_layer_in_the_table():
    modules = {p.stem if p.is_file() else p.name
               for p in (ROOT / "pypkg" / "ionmd").iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    modules.add("ionmd")                                  # the package's own __init__
    table = documented_layers()
    assert modules <= set(LAYERS), f"test_architecture.LAYERS lacks {sorted(modules - set(LAYERS))}"
    wrong = {m: (table.get(m), LAYERS[m]) for m in modules if table.get(m) != LAYERS[m]}
    assert not wrong, f"module: (layer in the doc, layer enforced): {wrong}"


def test_every_plugin_source_is_named():
    named = re.findall(r"`(ionmd_[\w*.{},]+|pair_ionmd[\w*.]*)`", DOC)
    patterns = []
    for name in named:                                    # ionmd_model*.{h,cpp} -> two patterns
        head, _, alts = name.partition(".{")
        patterns += [f"{head}.{a}" for a in alts.rstrip("}").split(",")] if alts else [name]
    files = [p.name for p in (ROOT / "lmp_plugins").iterdir() if p.suffix in (".cpp", ".h")]
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert not missing, f"lmp_plugins files docs/architecture.md does not name: {missing}"
