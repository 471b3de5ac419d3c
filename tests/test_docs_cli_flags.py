"""Every flag a page shows with a command exists: `ionmd VERB [SUB] ... --flag` in README.md
and docs/*.md against that verb's own argparse parser, and `examples/NAME.py ... --flag`
against the script's `--help`. A user types what the docs show; a renamed or dropped flag
must not survive in them."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ionmd.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def commands(text: str, start: str) -> list[str]:
    """Inline code spans and code-block lines that contain `start`, from it to a comment."""
    spans = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.S):
        spans += block.replace("\\\n", " ").splitlines()   # continuation lines join
    found = []
    for span in spans:
        for m in re.finditer(re.escape(start), span):
            found.append(span[m.start():].split(" #")[0].split("|")[0])
    return found


def choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}


def unknown_ionmd_flags(text: str) -> list[str]:
    verbs, bad = choices(build_parser()), []
    for cmd in commands(text, "ionmd "):
        words = cmd.split()
        if len(words) < 2 or words[1] not in verbs:
            continue                                   # prose such as "ionmd itself"
        parser = verbs[words[1]]
        sub = choices(parser)
        if sub and len(words) > 2 and words[2] in sub:
            parser = sub[words[2]]
        elif sub:
            continue                                   # `ionmd export sevennet|mace|esen`
        bad += [f"{f} in `{cmd.strip()}`" for f in FLAG.findall(" ".join(words[2:]))
                if f not in options(parser)]
    return bad


def test_rule_catches_a_wrong_flag():
    assert unknown_ionmd_flags("`ionmd run conductivity X --model m.pt --temperatures 600`") == [
        "--temperatures in `ionmd run conductivity X --model m.pt --temperatures 600`"]
    assert unknown_ionmd_flags("```bash\nionmd sweep submit c.toml --retry-failed\n```") == []


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_ionmd_flags_exist(page):
    bad = unknown_ionmd_flags(page.read_text())
    assert not bad, f"{page.name}: flags the parser does not know: " + "; ".join(bad)


@pytest.fixture(scope="module")
def example_flags():
    """Each example script's flags, from its own --help (run once per script)."""
    cache: dict[str, set[str]] = {}

    def flags(script: str) -> set[str]:
        if script not in cache:
            out = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--help"],
                                 capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, f"{script} --help: {out.stderr[-500:]}"
            cache[script] = set(FLAG.findall(out.stdout))
        return cache[script]
    return flags


def test_example_script_flags_exist(example_flags):
    bad = []
    for page in PAGES:
        for cmd in commands(page.read_text(), "examples/"):
            script = re.match(r"examples/([\w-]+\.py)", cmd)
            if not script:
                continue
            bad += [f"{page.name}: {f} in `{cmd.strip()}`"
                    for f in FLAG.findall(cmd[script.end():])
                    if f not in example_flags(script.group(1))]
    assert not bad, "; ".join(bad)
