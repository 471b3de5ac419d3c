"""``export_hint`` (``ionmd run --model X``, a campaign's ``models``) says what a file is
by what it holds (export/file_family.py, the home every exporter's refusal reads), not by
its suffix. Before, it guessed from the name: a MACE model or a SevenNet checkpoint saved
as ``.pt`` got no hint, an ionmd model file named after its source model (``mace-mp-0.pt``,
``mace-omat-0.pt2``) was told to be exported again with ``ionmd export mace``, and any
``.pth`` was "a SevenNet checkpoint". References: the files as each family's own code
writes them (mace-torch's pickle, tests/tiny_sevennet.py's checkpoint as sevenn saves it),
ionmd's own exports (TorchScript, AOTInductor), and each exporter's verb."""

from __future__ import annotations

import shutil
from pathlib import Path

from ionmd.export.model_names import export_hint

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_mace_pickle_saved_as_pt_is_told_to_export_mace(tmp_path):
    model = tmp_path / "mace-small.pt"
    shutil.copy(FIXTURES / "mace_old_033_mp0_small.model", model)
    hint = export_hint(model)
    assert hint is not None and "is a MACE model" in hint, hint
    assert f"`ionmd export mace {model} -o mace-small-ionmd.pt`" in hint   # not itself


def test_a_sevennet_checkpoint_is_told_by_its_weights_not_its_suffix(tmp_path, tiny_checkpoint):
    as_pt = tmp_path / "sevennet.pt"
    shutil.copy(tiny_checkpoint, as_pt)
    hint = export_hint(as_pt)
    assert hint is not None and "is a SevenNet checkpoint" in hint, hint
    assert f"`ionmd export sevennet {as_pt} -o sevennet-ionmd.pt`" in hint
    # a .pth holding no checkpoint is no SevenNet checkpoint (the suffix said so before)
    junk = tmp_path / "notes.pth"
    junk.write_text("not a model")
    said = export_hint(junk)
    assert "SevenNet checkpoint," not in said and "no ionmd model file" in said, said


def test_ionmd_files_named_after_their_source_model_get_no_export_hint(tmp_path, morse):
    # an ionmd TorchScript export named after the MACE model it came from
    named = tmp_path / "mace-mp-0.pt"
    shutil.copy(morse, named)
    assert export_hint(named) is None


def test_an_aoti_export_named_after_a_model_gets_no_export_hint(tmp_path, morse_pt2):
    for name in ("esen-sm-conserving.pt2", "mace-omat-0.pt2"):
        named = tmp_path / name
        shutil.copy(morse_pt2, named)
        assert export_hint(named) is None, name


def test_names_of_models_not_on_disk_still_get_their_commands(tmp_path):
    assert "`ionmd export sevennet 7net-0 -o 7net-0.pt`" in export_hint("7net-0")
    assert "`ionmd export mace FILE.model" in export_hint(str(tmp_path / "mace-mp-0.model"))
    assert "`ionmd export esen CHECKPOINT.pt -o esen-sm.pt2`" in export_hint(
        str(tmp_path / "esen-sm.pt"))
    assert export_hint(str(tmp_path / "other.pt")) is None
