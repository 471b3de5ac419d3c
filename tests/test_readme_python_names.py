"""README's Python blocks run as written as far as their names go: every name a block reads
is imported, assigned earlier in the block, or a builtin. The notebook example passed
``structure`` to ``screen_structure`` where the block had built ``cell`` (NameError)."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def undefined_names(source: str) -> list[str]:
    """Names read before any import or assignment binds them, in statement order."""
    bound = set(dir(builtins))
    missing = []
    for statement in ast.parse(source).body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                    and node.id not in bound:
                missing.append(node.id)
        for node in ast.walk(statement):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
    return missing


def test_the_checker_finds_an_unbound_name():
    assert undefined_names("cell = 1\nres = f(structure)") == ["f", "structure"]
    assert undefined_names("import ionmd.screen as scr\nx = scr.plan_screen(1)") == []


def test_readme_python_blocks_read_only_names_they_bind():
    blocks = python_blocks(README.read_text())
    assert blocks
    for block in blocks:
        assert undefined_names(block) == [], block
