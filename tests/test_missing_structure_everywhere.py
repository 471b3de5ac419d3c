"""A structure that is neither a file nor a shipped example is refused in one sentence by
``ionmd run``, ``ionmd screen`` and a campaign (``ionmd.structures.io.missing_structure``,
de46ecb). The screen said "no such file: 'nope.cif' (nor a shipped example name: ...)" and
a campaign "structure 'nope.cif' not found: no file ... and no shipped example of that
name", each its own words. The reference sentence is test_structure_missing_file's: a path
is a missing file with the absolute path looked for, a bare name is neither a file here
nor an example."""

from __future__ import annotations

import pytest

from ionmd.cli import main
from ionmd.structures import example_names
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


def _expected(folder, given: str) -> str:
    if given.endswith(".cif"):
        return (f"structure file {given!r} does not exist (looked for {folder / given}); "
                "check the path")
    return (f"no file {given!r} (looked for {folder / given}) and no shipped example "
            f"structure named {given!r}; available: {', '.join(example_names())} (or give "
            "a CIF/POSCAR file path)")


@pytest.mark.parametrize("given", ["nope.cif", "nope"])
def test_run_screen_and_a_campaign_say_the_same_sentence(folder, monkeypatch, capsys, given):
    monkeypatch.chdir(folder)
    expected = _expected(folder, given)
    said = {}
    assert main(["run", "conductivity", given, "--model", "morse.pt", "--dry-run",
                 "-o", "out_run"]) not in (0, None)
    said["run"] = capsys.readouterr().err
    main(["screen", given, "--model", "morse.pt", "--dry-run", "-o", "out_screen"])
    said["screen"] = capsys.readouterr()
    said["screen"] = said["screen"].out + said["screen"].err
    path = write_campaign(folder, structures=f'["{given}"]  # entry')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    said["campaign"] = str(exc.value)
    for command, text in said.items():
        assert expected in text, (command, text)
    # the campaign still names the entry's line
    assert f"line {line_of(path, '# entry')}: {expected}" in said["campaign"]
