"""A YAML campaign file's keys as written. PyYAML reads YAML 1.1, where an unquoted
``No`` (nobelium), ``no``, ``On``, ``Off``, ``yes`` ... is a boolean: ``charges: {Li: 1,
No: 3}`` became ``{"Li": 1, False: 3}``, a key no check could name. Every key of a
campaign file is a name (an element, a setting), never a truth value, so a key is kept as
the text it was written as; values are read as YAML reads them (``dump_unwrapped: yes``
stays true)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

BOOL_TAG = "tag:yaml.org,2002:bool"
STR_TAG = "tag:yaml.org,2002:str"


@cache
def keys_as_written_loader():
    """PyYAML's safe loader, except that a plain (unquoted) key YAML 1.1 reads as a
    boolean stays its text (``No`` -> ``"No"``). Built on first use: PyYAML is imported
    only where a YAML file is read."""
    import yaml

    class KeysAsWrittenLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == BOOL_TAG:
                    key_node.tag = STR_TAG
            return super().construct_mapping(node, deep=deep)

    return KeysAsWrittenLoader


def is_yaml(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".yaml", ".yml")


def read_yaml_keys_as_written(path: str | Path):
    """The data of a YAML file (already read once as valid: ``source.read_source``) with
    its keys as written (:func:`keys_as_written_loader`)."""
    import yaml

    return yaml.load(Path(path).read_text(), Loader=keys_as_written_loader())  # noqa: S506
