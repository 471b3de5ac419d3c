"""How a YAML campaign file is read. PyYAML reads YAML 1.1, where an unquoted ``No``
(nobelium), ``no``, ``On``, ``Off``, ``yes`` ... is a boolean: ``charges: {Li: 1, No: 3}``
became ``{"Li": 1, False: 3}``, a key no check could name.

* Every key of a campaign file is a name (an element, a setting), never a truth value, so
  a key is kept as the text it was written as (:func:`keys_as_written_loader`).
* Values are read as YAML reads them (``dump_unwrapped: yes`` stays true). A list of a
  campaign file holds names, paths or numbers, never truth values, so a list item YAML
  reads as a boolean is a name YAML took for one (``mobile_species: [Li, No]``): it is
  refused, naming the quoted form (:func:`boolean_item_problem`). Not kept as written: a
  list of truth values is no mistake to YAML, and ``[Li, Off]`` taken as the species
  ``Off`` would pass unnoticed where the refusal names it on its line.
* Merge keys (``<<: *defaults``) merge as YAML says, a key beside them overriding the
  merged one: the keys merged in are kept as written too (an inline ``<<: {No: 3}``
  gave ``False: 3``), and a key given beside a merge is no key given twice.
"""

from __future__ import annotations

from functools import cache

BOOL_TAG = "tag:yaml.org,2002:bool"
MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"


@cache
def keys_as_written_loader():
    """PyYAML's safe loader, except that a plain (unquoted) key YAML 1.1 reads as a
    boolean stays its text (``No`` -> ``"No"``). Built on first use: PyYAML is imported
    only where a YAML file is read."""
    import yaml

    class KeysAsWrittenLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            # the merged keys first (SafeLoader merges them into node.value): a merged
            # mapping may not be constructed yet, its keys not yet kept as written
            if isinstance(node, yaml.MappingNode):
                self.flatten_mapping(node)
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == BOOL_TAG:
                    key_node.tag = STR_TAG
            return super().construct_mapping(node, deep=deep)

    return KeysAsWrittenLoader


def boolean_item_problem(item_node, where: str) -> str | None:
    """What is wrong with list item ``item_node`` (``where``: its key path, e.g.
    ``protocol.mobile_species[1]``) that YAML 1.1 reads as a boolean (an unquoted ``No``,
    ``yes``, ``Off``): a campaign's lists take no truth values. None for any other item."""
    if getattr(item_node, "tag", None) != BOOL_TAG:
        return None
    text = item_node.value
    return (f"{where} is {text}, unquoted, which YAML 1.1 reads as "
            f"{str(_truth(text)).lower()}; a campaign's lists hold names, paths or numbers: "
            f"to mean the name {text}, quote it ('{text}')")


def _truth(text: str) -> bool:
    return text.lower() in ("yes", "true", "on")
