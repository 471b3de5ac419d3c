"""A CIF of several data blocks, one per structure, cut into its blocks so that each is
read, checked and refused on its own: read whole, one bad block (a site pymatgen drops, a
formula that disagrees) refused the file, its good blocks with it, without naming the
block."""

from __future__ import annotations

import re

_DATA_LINE = re.compile(r"[ \t]*data_(\S*)", flags=re.I)


def structure_blocks(text: str) -> list[tuple[str, str]]:
    """``(name, text)`` of each data block listing atom sites, in a file of several data
    blocks (each block's text led by the file's lines before its first block: comments,
    the CIF version); ``[]`` for a file of one block, or none listing atom sites (read
    whole, for the readers' own errors). A ``data_global`` block of publication details is
    no structure: read with the structure's block, its missing symmetry made pymatgen warn
    "Defaulting to P1", and the file was refused as listing no operators. Lines inside a
    semicolon text field never start a block."""
    lines = text.splitlines(keepends=True)
    starts, in_field = [], False
    for i, line in enumerate(lines):
        if line.startswith(";"):
            in_field = not in_field
        elif not in_field:
            m = _DATA_LINE.match(line)
            if m:
                starts.append((i, m.group(1)))
    if len(starts) < 2:
        return []
    head = "".join(lines[:starts[0][0]])
    blocks = []
    for (i, name), (end, _) in zip(starts, starts[1:] + [(len(lines), "")]):
        body = "".join(lines[i:end])
        if "_atom_site_" in body.lower():
            blocks.append((name, head + body))
    return blocks
