"""Campaign problems are each said once, all at once, on their own lines: a structure
entry's order settings for a glob of several files, order settings both at the top level
and in an entry, and the default output folder ``runs`` that is a file (the line of a
marker in the file and ``checks.range_problem`` are the references)."""

from __future__ import annotations

import shutil

import pytest

from ionmd.protocols.setting_ranges import range_problem
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


def problems_of(path) -> list[str]:
    """The problem lines of the CampaignError ``path`` raises (without the header)."""
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    return str(exc.value).splitlines()[1:]


def test_an_entry_order_problem_is_said_once_for_all_files_of_its_glob(folder):
    shutil.copy(folder / "fcc.cif", folder / "fcc2.cif")
    path = write_campaign(folder, structures='[{path = "*.cif", order_tol = 2}]  # entry')
    problems = problems_of(path)
    # before: once per file the pattern matched (2 identical lines, "2 problem(s)")
    assert problems == [f"  {path}, line {line_of(path, '# entry')}: "
                        f"{range_problem('order_tol', 2.0)}"]


def test_order_problems_at_the_top_and_in_an_entry_are_said_together(folder):
    path = write_campaign(folder, extra="order_tol = 5  # top",
                          structures='[{path = "fcc.cif", order_min_distance = -1}]  # entry')
    problems = problems_of(path)
    # before: the entry's order_min_distance only once the top-level order_tol was fixed
    assert problems == [
        f"  {path}, line {line_of(path, '# entry')}: {range_problem('order_min_distance', -1.0)}",
        f"  {path}, line {line_of(path, '# top')}: {range_problem('order_tol', 5.0)}"]


def test_a_file_named_runs_where_output_is_not_set_is_refused(folder):
    path = write_campaign(folder)
    path.write_text(path.read_text().replace('output = "runs"\n', ""))
    (folder / "runs").write_text("notes\n")
    # before: a KeyError traceback ('output') instead of the campaign's problem list
    problems = problems_of(path)
    assert len(problems) == 1
    assert f"the file {folder.resolve() / 'runs'}, not a folder" in problems[0]
    assert "output is not set" in problems[0]
    assert (folder / "runs").read_text() == "notes\n"
