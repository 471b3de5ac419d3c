"""A campaign's [analysis] fit range: the MSD is fitted from fit_start_ps to fit_end_ps,
so an end not after the start (the default start is 1 ps) is refused on fit_end_ps's line
before any run, instead of failing every run's analysis at collect (the line of a marker
in the file is the reference)."""

from __future__ import annotations

import pytest

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign

ANALYSIS = "charges = {Li = 1, Cl = -1}\n"


@pytest.mark.parametrize("fit, start", [
    ("fit_start_ps = 10\nfit_end_ps = 5  # end", "fit_start_ps = 10"),
    ("fit_end_ps = 0.5  # end", "the default fit_start_ps 1"),
], ids=["end-before-start", "end-before-the-default-start"])
def test_a_fit_end_not_after_the_fit_start_is_refused_on_its_line(folder, fit, start):
    path = write_campaign(folder, analysis=ANALYSIS + fit)
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    # before: accepted; collect then failed every run ("fit start ... is not before the
    # fit end ...") after the whole campaign had run
    (problem,) = str(exc.value).splitlines()[1:]
    assert problem.startswith(f"  {path}, line {line_of(path, '# end')}: analysis.fit_end_ps = ")
    assert f"is not after {start} ps" in problem


def test_a_fit_end_after_the_fit_start_is_kept(folder):
    # runs of 6 ps less 1 discarded: the 2.5 ps fit end lies inside them
    path = write_campaign(folder, analysis=ANALYSIS + "fit_start_ps = 2\nfit_end_ps = 2.5",
                          duration_ps=6, discard_ps=1)
    analysis = load_campaign(path, check_resources=False).analysis
    assert (analysis.fit_start_ps, analysis.fit_end_ps) == (2.0, 2.5)
