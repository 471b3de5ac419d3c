"""Every cross-reference in README.md and docs/*.md leads somewhere: relative links name an
existing file (and, with #anchor, one of its headings as GitHub spells the anchor), and
repository paths in backticks exist. (docs/scaling.md linked benchmarks.md#checking-ionmd-
bench-itself after the heading gained its date.)"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
REPO_DIRS = ("tests", "examples", "pypkg", "lmp_plugins", "inputs", "docs")


def github_anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {github_anchor(h) for h in re.findall(r"^#+\s+(.*)$", page.read_text(), re.M)}


def test_anchor_rule_matches_a_known_heading():
    assert github_anchor("Checking `ionmd bench` itself (2026-12-05)") == \
        "checking-ionmd-bench-itself-2026-12-05"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_links_and_paths_exist(page):
    text, broken = page.read_text(), []
    for link in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"link {link}: no {target.relative_to(ROOT)}")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"link {link}: no heading with that anchor")
    for path in re.findall(r"`((?:%s)/[^`\s*{<]+)`" % "|".join(REPO_DIRS), text):
        if not (ROOT / path.rstrip(".,;:")).exists():
            broken.append(f"path {path} does not exist")
    assert not broken, f"{page.name}: " + "; ".join(broken)
