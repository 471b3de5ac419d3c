"""docs/model-contract.md lists the metadata keys every model file must carry, as the
exporters' contract (`ionmd.export.contract.REQUIRED_KEYS`) and the plugin's loader
(lmp_plugins/ionmd_metadata.cpp) require them. (It named none: a user writing a model file
learned them from the plugin's refusal.)"""

from __future__ import annotations

import re
from pathlib import Path

from ionmd.export.contract import REQUIRED_KEYS

ROOT = Path(__file__).resolve().parents[1]


def test_documented_metadata_keys_are_the_required_ones():
    doc = (ROOT / "docs" / "model-contract.md").read_text()
    sentence = re.search(r"every file carries\n?(.*?)and the plugin refuses", doc, re.S)
    assert sentence, "docs/model-contract.md no longer says which metadata keys are required"
    documented = re.findall(r"`(\w+)` \(|`(\w+)`,|`(\w+)` and", sentence.group(1))
    documented = [next(k for k in keys if k) for keys in documented]
    cpp = (ROOT / "lmp_plugins" / "ionmd_metadata.cpp").read_text()
    loader = re.search(r"for \(const char \*key : \{([^}]*)\}\)", cpp).group(1)
    assert documented == list(REQUIRED_KEYS) == re.findall(r'"(\w+)"', loader)
