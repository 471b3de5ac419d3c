"""``ionmd analyze --charges``:

* charges that differ from those of the run's run.json replaced them silently: a sigma
  that is not the one of the run's own record passed without a word. Now stderr and the
  run's results (``charges_replaced``) name both; the same charges say nothing;
* the charges were checked twice (the command up front, with --mobile only; each run's
  spec, with its run.json's mobile species), in two wordings: "Li=one" was "expected
  KEY=VALUE pairs". Now one check (the run spec's, through structures.charge_values),
  worded as for a campaign file.

References: Nernst-Einstein sigma goes with q^2 (Li 2 gives 4x Li 1's sigma, the same D),
and the campaign file's wording of the same value (load_campaign).
"""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from test_analysis_cli import POINT_IONS, _run_dir


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A synthetic run whose run.json holds Li 1, Cl -1 (mobile Li)."""
    path = tmp_path_factory.mktemp("given") / "T800"
    _run_dir(path, 800, seed=5)
    return path


def _analyze(run, out, capsys, *flags):
    rc = main(["analyze", str(run), "-o", str(out), *POINT_IONS, *flags])
    err = capsys.readouterr().err
    assert rc == 0, err
    return json.loads((out / run.name / "results.json").read_text()), err


@pytest.fixture(scope="module")
def own(run, tmp_path_factory):
    """The run analysed with its run.json's charges (no --charges)."""
    out = tmp_path_factory.mktemp("own")
    rc = main(["analyze", str(run), "-o", str(out), *POINT_IONS])
    assert rc == 0
    return json.loads((out / run.name / "results.json").read_text())


def test_other_charges_are_named_beside_the_run_jsons(run, own, tmp_path, capsys):
    res, err = _analyze(run, tmp_path, capsys, "--charges", "Li=2,Cl=-1")
    note = res["charges_replaced"]
    assert "--charges Li=2,Cl=-1" in note and "Li=1,Cl=-1" in note
    assert str(run / "run.json") in note
    assert f"ionmd: note: {run}: {note}" in err
    # the given charges are those used: sigma (Nernst-Einstein) goes with q^2, D not at all
    assert res["conductivity"]["sigma"] == pytest.approx(4 * own["conductivity"]["sigma"],
                                                         rel=1e-9)
    assert [d["D"] for d in res["diffusion"]] == [d["D"] for d in own["diffusion"]]


def test_the_same_charges_say_nothing(run, own, tmp_path, capsys):
    res, err = _analyze(run, tmp_path, capsys, "--charges", "Cl=-1, Li=1.0")
    assert "charges_replaced" not in res and "replaced the charges" not in err
    assert res["conductivity"]["sigma"] == pytest.approx(own["conductivity"]["sigma"],
                                                         rel=1e-12)


def test_failures_only_says_it_and_leaves_the_full_results_alone(run, tmp_path, capsys):
    """--failures-only after a full analysis that found the same (no failure): the full
    analysis stands (d9a8481 replaced it with a post-mortem only, its transport files
    removed, though nothing contradicted it; 6666718 keeps it), failure.json says the
    same, and the given charges are named although the post-mortem uses none."""
    full, _ = _analyze(run, tmp_path, capsys)
    out = tmp_path / run.name
    transport = (out / "diffusion.csv").read_text()
    rc = main(["analyze", str(run), "-o", str(tmp_path), *POINT_IONS, "--failures-only",
               "--charges", "Li=2,Cl=-1"])
    assert rc == 0
    assert "replaced the charges of" in capsys.readouterr().err
    assert json.loads((out / "results.json").read_text()) == full
    assert json.loads((out / "failure.json").read_text()) == full["failure"]
    assert full["failure"]["failed"] is False
    assert (out / "diffusion.csv").read_text() == transport


def test_a_charge_that_is_no_number_is_worded_as_in_a_campaign(run, tmp_path, capsys, folder):
    from ionmd.sweep import CampaignError, load_campaign
    from sweep_setup import write_campaign

    with pytest.raises(CampaignError) as refused:
        load_campaign(write_campaign(folder, analysis='charges = {Li = "one", Cl = -1}'))
    said = "the charge of Li is 'one', no number: give a number (e.g. Li = 1, Cl = -1)"
    assert said in str(refused.value)
    assert main(["analyze", str(run), "-o", str(tmp_path / "out"), "--charges",
                 "Li=one,Cl=-1"]) == 1
    assert f"--charges: {said}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_mobile_species_at_zero_is_refused_by_the_runs_own_mobile_species(run, tmp_path,
                                                                            capsys):
    """Without --mobile the command's own check let Li=0 through to the run's; one check
    now, with the run's mobile species (run.json: Li), same words either way."""
    said = "--charges: the charge of the mobile species Li is 0"
    for flags in ([], ["--mobile", "Li"]):
        assert main(["analyze", str(run), "-o", str(tmp_path / "out"), "--charges",
                     "Li=0,Cl=-1", *flags]) == 1
        assert said in capsys.readouterr().err


def test_charges_equal_to_their_printed_digits_say_nothing(tmp_path):
    """A guessed Fe 8/3 given back as printed (2.666667): the note named 'Fe=2.66667'
    replacing 'Fe=2.66667'; charges 1e-6 apart are the same (sigma 2e-6 apart), 1e-4 not."""
    from ionmd.analysis.run_spec import replaced_charges_note

    guessed = {"charges": {"Fe": 8 / 3, "O": -2}, "charges_guessed": True}
    assert replaced_charges_note(tmp_path, guessed, {"Fe": 2.666667, "O": -2.0}) is None
    note = replaced_charges_note(tmp_path, guessed, {"Fe": 2.6664, "O": -2.0})
    assert "--charges Fe=2.6664,O=-2 replaced" in note and "Fe=2.66667,O=-2" in note
    assert replaced_charges_note(tmp_path, {"charges": {"Li": 1}}, {"Li": -1.0}) is not None


# --- the Python API: analyze_run / analyze_failures write the note into their results once
# (the command wrote results.json a second time to add it; a caller of the API had none)

def _spec(run, charges=None):
    from ionmd.analysis.run_spec import load_run_spec

    return load_run_spec(run, {"charges": charges})


def test_analyze_run_writes_what_the_given_charges_replaced(run, own, tmp_path):
    from ionmd.analysis.run_analysis import analyze_run

    spec = _spec(run, {"Li": 2, "Cl": -1})
    res = analyze_run(spec, tmp_path, fit_start_ps=1.0, window_ps=15.0,
                      failure_options={"collapse_fraction": 0.01})
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["charges_replaced"] == res["charges_replaced"] == spec.charges_replaced
    assert "--charges Li=2,Cl=-1" in written["charges_replaced"]
    assert "Li=1,Cl=-1" in written["charges_replaced"]        # run.json's, as written there
    assert written["conductivity"]["sigma"] == pytest.approx(
        4 * own["conductivity"]["sigma"], rel=1e-9)                   # q^2: with Li = 2


def test_analyze_run_without_other_charges_says_nothing(run, tmp_path):
    from ionmd.analysis.run_analysis import analyze_failures, analyze_run

    for spec in (_spec(run), _spec(run, {"Li": 1, "Cl": -1})):
        assert spec.charges_replaced is None
        assert "charges_replaced" not in analyze_failures(spec, tmp_path)
    res = analyze_run(_spec(run, {"Li": 1.0, "Cl": -1}), tmp_path, fit_start_ps=1.0,
                      failure_options={"collapse_fraction": 0.01})
    assert "charges_replaced" not in json.loads((tmp_path / "results.json").read_text())
    assert "charges_replaced" not in res


def test_analyze_failures_and_a_runs_error_results_say_it(run, tmp_path):
    from ionmd.analysis.run_analysis import analysis_error_results, analyze_failures

    spec = _spec(run, {"Li": 2, "Cl": -1})
    assert analyze_failures(spec, tmp_path)["charges_replaced"] == spec.charges_replaced
    err = analysis_error_results(run, spec, RuntimeError("x"), tmp_path / "err")
    assert err["charges_replaced"] == spec.charges_replaced
    assert json.loads((tmp_path / "err" / "results.json").read_text()) == err
