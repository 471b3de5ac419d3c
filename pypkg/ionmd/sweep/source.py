"""Read a campaign file (TOML or YAML) together with the line of every key and list item,
so that validation errors can name the line to fix.

YAML lines come from PyYAML's node marks. ``tomllib`` keeps no positions, so TOML lines
come from a small scanner of the same text: table headers (``[a]``, ``[[a]]``), ``key =``
lines (bare, quoted or dotted keys) and the items of arrays, also across lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ionmd.errors import IonmdError
from ionmd.sweep.campaign_yaml import (MERGE_TAG, boolean_item_problem,
                                       keys_as_written_loader)

Key = tuple  # path of keys (str) and list indices (int)


class CampaignError(IonmdError):
    """A campaign file that cannot be run; the message names the file and line(s)."""


@dataclass
class Source:
    """Parsed campaign file: ``data`` plus ``lines[key path] -> 1-based line``."""

    path: Path
    data: dict
    lines: dict[Key, int]

    def line(self, *key) -> int:
        """Line of ``key`` (or of its closest enclosing key that has one; 1 if none)."""
        key = tuple(key)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return 1

    def where(self, *key) -> str:
        """``"campaign.toml, line 7"`` for error messages."""
        return f"{self.path}, line {self.line(*key)}"


def read_source(path: str | Path) -> Source:
    """Parse a ``.toml`` or ``.yaml``/``.yml`` campaign file.

    Raises
    ------
    CampaignError
        If the file is missing, of another kind, or not valid TOML/YAML (with its line).
    """
    path = Path(path)
    if not path.is_file():
        raise CampaignError(f"campaign file {path} not found")
    text = path.read_text()
    suffix = path.suffix.lower()
    if suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CampaignError(f"{path}: not valid TOML: {exc}") from exc
        return Source(path, data, toml_lines(text))
    if suffix in (".yaml", ".yml"):
        lines, data = _read_yaml(text, path)
        if not isinstance(data, dict):
            raise CampaignError(f"{path}: a campaign file is a mapping of keys (structures, "
                                f"models, protocol, ...), not a {type(data).__name__}")
        return Source(path, data, lines)
    raise CampaignError(f"{path}: campaign files are TOML (.toml) or YAML (.yaml, .yml)")


def _read_yaml(text: str, path: Path) -> tuple[dict[Key, int], object]:
    """The lines of the document's keys and items (:func:`_yaml_lines`, read from its
    node tree as written, before constructing its data merges ``<<`` keys into it) and its
    data, from one parse, keys as written (``campaign_yaml``: an unquoted key ``No`` is
    nobelium, not false).

    Raises
    ------
    CampaignError
        If the text is not valid YAML (with its line), or a key or list item is refused
        (:func:`_yaml_lines`)."""
    import yaml

    loader = keys_as_written_loader()(text)
    try:
        node = loader.get_single_node()
        lines: dict[Key, int] = {}
        booleans: list[str] = []
        if node is not None:
            _yaml_lines(node, (), lines, path, booleans, set())
        if booleans:
            raise CampaignError("\n".join(booleans))
        return lines, None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise CampaignError(f"{path}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()


def _yaml_lines(node, key: Key, lines: dict[Key, int], path: Path,
                booleans: list[str], seen: set[int]) -> None:
    """Lines of the keys and items under ``node``; each list item YAML read as a boolean
    (``mobile_species: [No]``) is added to ``booleans``, on its line
    (:func:`~ionmd.sweep.campaign_yaml.boolean_item_problem`). A node reached again through
    an alias (``*defaults``) is walked once (``seen``): its items are said where it is
    written, and nested aliases cannot make the walk exponential. The keys a merge
    (``<<: *defaults``) brings get the lines of their definition unless the mapping gives
    them itself (YAML: its own key overrides the merged one).

    Raises
    ------
    CampaignError
        On a key given twice in one mapping: PyYAML keeps the last one silently (TOML
        refuses it), so a campaign would run with half of what its file says."""
    import yaml

    if not isinstance(node, yaml.CollectionNode) or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        merged = []
        for k, v in node.value:
            if k.tag == MERGE_TAG:
                merged.extend(v.value if isinstance(v, yaml.SequenceNode) else [v])
                continue
            sub = key + (k.value,)
            if sub in lines:
                raise CampaignError(f"{path}, line {k.start_mark.line + 1}: "
                                    f"{'.'.join(map(str, sub))} is given twice (first on line "
                                    f"{lines[sub]}); keep one")
            lines[sub] = k.start_mark.line + 1
            _yaml_lines(v, sub, lines, path, booleans, seen)
        for source in merged:           # the mapping's own keys override the merged ones
            found: dict[Key, int] = {}      # walked here where written inline
            _yaml_lines(source, key, found, path, booleans, seen)
            if isinstance(source, yaml.MappingNode):
                found.update({key + (k.value,): k.start_mark.line + 1 for k, _ in source.value})
            for sub, line in found.items():
                lines.setdefault(sub, line)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            lines[key + (i,)] = v.start_mark.line + 1
            why = boolean_item_problem(v, f"{'.'.join(map(str, key))}[{i}]")
            if why:
                booleans.append(f"{path}, line {lines[key + (i,)]}: {why}")
            _yaml_lines(v, key + (i,), lines, path, booleans, seen)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""            # bare or quoted key
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=\s*")


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return tuple(p[1:-1] if p[0] in "\"'" else p for p in parts)


def toml_lines(text: str) -> dict[Key, int]:
    """Lines of the tables, keys and array items of a TOML document (1-based)."""
    lines: dict[Key, int] = {}
    rows = text.splitlines()
    table: Key = ()
    counts: dict[Key, int] = {}
    i = 0
    while i < len(rows):
        row = rows[i]
        m = _HEADER.match(row)
        if m and not _KEY.match(row):
            name = _split_key(m.group(2))
            if m.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = name + (counts[name],)
            else:
                table = name
            lines.setdefault(table, i + 1)
            i += 1
            continue
        m = _KEY.match(row)
        if m:
            key = table + _split_key(m.group(1))
            lines[key] = i + 1
            rest = row[m.end():]
            if rest.lstrip().startswith(("[", "{")):
                i = _scan_value(rows, i, len(row) - len(rest.lstrip()), key, lines)
        i += 1
    return lines


def _scan_value(rows: list[str], i: int, col: int, key: Key, lines: dict[Key, int]) -> int:
    """Record the line of each item of the array / inline table starting at rows[i][col];
    returns the index of the row where it ends."""
    stack: list[list] = []          # [key path, item index or None (table), expecting item]
    quote = None
    while i < len(rows):
        row = rows[i]
        j = col
        while j < len(row):
            c = row[j]
            if quote:
                if c == "\\" and quote == '"':
                    j += 2
                    continue
                if c == quote:
                    quote = None
                j += 1
                continue
            if c == "#":
                break
            path = stack[-1][0] if stack else key
            if stack and stack[-1][2] and not c.isspace() and c not in "]},":
                frame = stack[-1]
                if frame[1] is not None:            # next array item
                    lines[path + (frame[1],)] = i + 1
                frame[2] = False
            if c in "\"'":
                quote = c
            elif c == "[":
                if stack and stack[-1][1] is not None:
                    path = path + (stack[-1][1],)
                stack.append([path, 0, True])
            elif c == "{":
                if stack and stack[-1][1] is not None:
                    path = path + (stack[-1][1],)
                stack.append([path, None, True])
                m = _KEY.match(row[j + 1:])
                if m:
                    lines[path + _split_key(m.group(1))] = i + 1
            elif c == ",":
                if stack and stack[-1][1] is not None:
                    stack[-1][1] += 1
                    stack[-1][2] = True
                elif stack:
                    m = _KEY.match(row[j + 1:])
                    if m:
                        lines[path + _split_key(m.group(1))] = i + 1
            elif c in "]}":
                stack.pop()
                if not stack:
                    return i
            j += 1
        i += 1
        col = 0
    return i
