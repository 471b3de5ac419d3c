"""What a goal's round says of a failed run matches the rule the allocator applies
(allocate_first.failed_below: a failed temperature bars new runs at or above it only where
it is warmer than every run that did not fail). Found by audit A23 on a Morse fcc goal
campaign (1000 K melted, 1200 K ran clear): the round said of the 1000 K run "no new run at
or above 1000 K is started" and then added a run at 1150 K, chosen as "the warmest candidate
colder than inf K, where a run failed"."""

from __future__ import annotations

from test_allocate_failed_priced import D_of, clear, no_point, run

from ionmd.sweep.allocate import next_step

BELOW_1200 = tuple(float(t) for t in range(650, 1250, 50))       # 650 ... 1200 K
MELTED = "failed: framework_melting"


def test_a_failed_run_below_a_clear_one_says_it_bars_nothing_and_no_inf_bound():
    d = next_step([no_point(1000.0, MELTED), clear(1200.0)], step_ps=1.0,
                  candidates_K=BELOW_1200, budget_left=1.0)
    assert (d.choice.action, d.choice.temperature_K) == ("new", 1150.0)   # allowed: 1200 K clear
    said = d.choice.describe()
    assert "inf K" not in said, said                   # before: "colder than inf K"
    assert "none is warmer than 1200 K" in said, said
    (why,) = d.ignored_why
    assert "no new run at or above 1000 K is started" not in why, why   # before: said so
    assert "bars no warmer run" in why, why


def test_priced_path_offers_warmer_runs_and_says_so():
    melted = run(1000.0, D_of(1000.0), 0.05 * D_of(1000.0), "T1000", MELTED)
    d = next_step([clear(800.0), melted, clear(1200.0)], step_ps=1.0,
                  candidates_K=BELOW_1200, budget_left=1.0)
    offered = {o.temperature_K for o in d.options if o.action == "new"}
    assert offered & {1050.0, 1100.0, 1150.0}, offered   # the rule offers them ...
    (why,) = d.ignored_why
    assert "no new run at or above 1000 K" not in why, why   # ... the words said not


def test_the_bound_is_still_said_where_it_holds():
    melted = run(1000.0, D_of(1000.0), 0.05 * D_of(1000.0), "T1000", MELTED)
    d = next_step([clear(600.0), clear(700.0), clear(800.0), melted], step_ps=1.0,
                  candidates_K=BELOW_1200, budget_left=1.0)
    assert max(o.temperature_K for o in d.options) < 1000.0
    (why,) = d.ignored_why
    assert "no new run at or above 1000 K is started" in why, why
    assert melted.why_left_out().endswith("while every run that did not fail is colder")
