"""A run folder's JSON file that holds no JSON object (cut short by an interrupted copy,
edited by hand) is refused naming the file and how to go on; before, json.loads' traceback
stopped `ionmd sweep status` and `submit` over every run. Reference: the file as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols.presets import Protocol
from ionmd.protocols.rundir import RunDir


def _rundir(path: Path) -> RunDir:
    path.mkdir()
    return RunDir(path, Protocol(name="p", source="s", seed=1), 600.0, 0, Path("m.pt"), "s",
                  ["Li"])


@pytest.mark.parametrize("text, says", [('{"state": "runn', "is not JSON"),
                                        ("[1, 2]", "holds a JSON list, not an object"),
                                        (b"\xff\xfe", "is not JSON")])
def test_a_damaged_status_is_refused_naming_it(tmp_path, text, says):
    rd = _rundir(tmp_path / "r0")
    f = rd.path / "status.json"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(IonmdError, match=rf"{f}.* {says}.*restore it from a copy"):
        rd.read_json("status.json")
    with pytest.raises(ValueError):         # what callers that go on without it catch
        rd.read_json("status.json")
    assert f.read_bytes() == (text if isinstance(text, bytes) else text.encode())   # kept


def test_a_missing_file_is_empty_and_a_whole_one_is_read(tmp_path):
    rd = _rundir(tmp_path / "r0")
    assert rd.read_json("status.json") == {}
    rd.write_json("status.json", {"state": "running", "step": 10})
    assert rd.read_json("status.json") == {"state": "running", "step": 10}
