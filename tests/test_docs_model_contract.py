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


def test_documented_metadata_places_are_the_loaders():
    """Where a TorchScript file and an AOTInductor package keep those lines, as the exporter
    writes them and the plugin reads them (the doc named the TorchScript one only)."""
    from ionmd.export.aoti import AOTI_METADATA_KEY

    doc = (ROOT / "docs" / "model-contract.md").read_text()
    said = re.search(r"Metadata: `key=value` lines in the TorchScript extra file `([\w/]+)`"
                     r" \(in an\s+AOTInductor package, `\.pt2`: the same lines as its package"
                     r" metadata entry `(\w+)`\)", doc)
    assert said, "docs/model-contract.md does not say where a .pt2 keeps its metadata"
    aoti_cpp = (ROOT / "lmp_plugins" / "ionmd_model_aoti.cpp").read_text()
    torch_cpp = (ROOT / "lmp_plugins" / "ionmd_model_torchscript.cpp").read_text()
    assert said.group(2) == AOTI_METADATA_KEY
    assert f'AOTI_METADATA_KEY = "{said.group(2)}"' in aoti_cpp
    assert f'"{said.group(1)}"' in torch_cpp
