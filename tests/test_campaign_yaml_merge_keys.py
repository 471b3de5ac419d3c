"""YAML campaign files with anchors, aliases and merge keys (``<<: *defaults``).

* A key given beside a merge overrides the merged one (YAML's merge-key rule): it was
  refused as "given twice", the merged key's line taken for its first.
* Keys merged in from an inline mapping (``<<: {No: 3}``) were read as YAML 1.1 reads them
  (``False: 3``): keys are kept as written wherever they come from.
* Aliases nested ten deep (a "billion laughs" file, a few hundred bytes) made the walk
  for key lines visit every expanded node (10^8): the file hung the command; each node is
  now walked once.

Reference: PyYAML's own ``safe_load`` (merge keys resolved as YAML says), with the
element keys quoted where YAML 1.1 would read them as booleans.
"""

from __future__ import annotations

import time

import pytest
import yaml

from ionmd.sweep.source import CampaignError, read_source


def _read(tmp_path, text):
    path = tmp_path / "campaign.yaml"
    path.write_text(text)
    return read_source(path)


DEFAULTS = """\
base: &base
  steps: 1000
  temperatures: [600, 800]
protocol:
  <<: *base
  steps: 2000
"""


def test_a_key_beside_a_merge_overrides_it(tmp_path):
    src = _read(tmp_path, DEFAULTS)
    assert src.data == yaml.safe_load(DEFAULTS)
    assert src.data["protocol"] == {"steps": 2000, "temperatures": [600, 800]}
    assert src.line("protocol", "steps") == 6             # its own line, not the merged one
    assert src.line("protocol", "temperatures") == 3      # where the merged value is written


@pytest.mark.parametrize("charges", ["<<: {No: 3, Li: 1}", "<<: *q"])
def test_merged_keys_are_kept_as_written(tmp_path, charges):
    text = f"q: &q {{No: 3, Li: 1}}\nanalysis:\n  charges:\n    {charges}\n    Cl: -1\n"
    src = _read(tmp_path, text)
    quoted = yaml.safe_load(text.replace("No:", "'No':"))
    assert src.data["analysis"] == quoted["analysis"]
    assert src.data["analysis"]["charges"] == {"No": 3, "Li": 1, "Cl": -1}


def test_a_boolean_item_merged_in_is_refused_on_its_line(tmp_path):
    text = "base: &base\n  mobile_species: [Li, No]\nprotocol:\n  <<: *base\n"
    with pytest.raises(CampaignError, match=r"line 2: base.mobile_species\[1\] is No"):
        _read(tmp_path, text)


def test_nested_aliases_are_walked_once(tmp_path):
    names = "abcdefgh"
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]" for p, n in zip(names, names[1:])]
    text = "\n".join(rows) + "\n"
    start = time.perf_counter()
    src = _read(tmp_path, text)
    assert time.perf_counter() - start < 5.0            # 10^8 nodes expanded: hung
    reference = yaml.safe_load(text)
    assert src.data["b"] == reference["b"] == [["x"] * 10] * 10
    assert src.data["h"][0] is src.data["g"]           # aliases share, as safe_load's do
    assert src.line("h") == 8
