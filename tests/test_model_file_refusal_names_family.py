"""A training checkpoint given where an ionmd model file is wanted is named with its
export command by every reader of a model file's metadata (``read_metadata``: ``ionmd
bench``, ``ionmd inspect``, a campaign's ``models``), as ``ionmd run --model`` and the
plugin name it. Before, these said "has no ionmd metadata: it was not written by `ionmd
export` (re-export the model with `ionmd export ...`)" of a MACE ``.model`` or a SevenNet
checkpoint that was never exported (audit A23). References: files as mace-torch and
sevenn write them (the fixtures), each exporter's verb."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ionmd.errors import ModelFileError
from ionmd.export import read_metadata

FIXTURES = Path(__file__).parent / "fixtures"
IONMD = Path(sys.executable).parent / "ionmd"


@pytest.fixture
def mace_model(tmp_path):
    path = tmp_path / "my_run.model"
    shutil.copy(FIXTURES / "mace_old_033_mp0_small.model", path)
    return path


def test_read_metadata_names_a_mace_model_and_a_sevennet_checkpoint(mace_model,
                                                                    tiny_checkpoint):
    with pytest.raises(ModelFileError) as refused:
        read_metadata(mace_model)
    text = str(refused.value)
    assert "is a MACE model" in text and f"`ionmd export mace {mace_model} -o my_run.pt`" in text
    assert "re-export" not in text, text
    with pytest.raises(ModelFileError) as refused:
        read_metadata(tiny_checkpoint)
    assert "is a SevenNet checkpoint" in str(refused.value), str(refused.value)
    assert "`ionmd export sevennet" in str(refused.value)


def test_bench_inspect_and_run_say_it_once(mace_model, tmp_path):
    command = f"`ionmd export mace {mace_model} -o my_run.pt`"
    for argv in (["bench", str(mace_model), "-o", str(tmp_path / "b")],
                 ["inspect", str(mace_model)],
                 ["run", "conductivity", "Li3YCl6", "--model", str(mace_model), "--dry-run",
                  "-o", str(tmp_path / "r")]):
        done = subprocess.run([str(IONMD), *argv], capture_output=True, text=True,
                              cwd=tmp_path, timeout=300)
        assert done.returncode == 1, (argv, done.stderr)
        assert done.stderr.count(command) == 1, (argv, done.stderr)     # run: not twice
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "r").exists()
