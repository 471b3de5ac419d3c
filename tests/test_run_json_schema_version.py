"""A run.json whose ``schema`` version is written with other digits than ASCII ones is
refused as the other schemas this ionmd does not know are, naming the schema and what to do.
Before, ``'ionmd-run/²'`` ended in a bare ValueError from inside the reader (``str.isdigit``
takes '²', ``int()`` refuses it), and ``'ionmd-run/٣'`` (Arabic-Indic 3, which ``int()``
reads) was said to be written by a newer ionmd, which none is."""

from __future__ import annotations

import json

import pytest

from ionmd.analysis.run_json import read_run_json
from ionmd.errors import AnalysisError


@pytest.mark.parametrize("schema", ["ionmd-run/²", "ionmd-run/٣"])
def test_a_schema_version_of_other_digits_is_refused_by_name(tmp_path, schema):
    (tmp_path / "run.json").write_text(json.dumps({"schema": schema, "temperature_K": 900}))
    with pytest.raises(AnalysisError) as err:
        read_run_json(tmp_path)
    message = str(err.value)
    assert repr(schema) in message and "'ionmd-run/1'" in message
    assert "not an ionmd run description" in message     # no newer ionmd writes it


def test_a_newer_schema_is_still_told_to_update(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"schema": "ionmd-run/2"}))
    with pytest.raises(AnalysisError, match="written by a newer ionmd: update ionmd"):
        read_run_json(tmp_path)
