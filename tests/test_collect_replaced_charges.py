"""``ionmd sweep collect`` after a campaign's charges changed: run.json records the charges
a run was planned with; collect computes sigma with the campaign's table as it is now.
Where the two differ, the sigma is not the one the run's own record implies, and collect
said nothing (``ionmd analyze --charges`` says it). Now each such run is named on stderr
and in results.json's ``runs`` (``charges_replaced``, both charges); the same charges say
nothing.

Reference: Nernst-Einstein sigma goes with q^2 at the same D (Li 2 gives 4x Li 1's sigma),
and the charges run.json holds as written there.
"""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from sweep_setup import brownian_campaign, campaign_dir, write_campaign

ANALYSIS = "charges = {{Li = {li}, Cl = {cl}}}\nfit_start_ps = 1.0\nwindow_ps = 15.0\n" \
           "collapse_fraction = 0.01"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, morse):
    """A campaign of two Brownian runs planned with Li 1, Cl -1, and collect's results."""
    folder = campaign_dir(tmp_path_factory.mktemp("replaced") / "camp", morse)
    path = write_campaign(folder, temperatures=(800, 1000), analysis=ANALYSIS.format(li=1, cl=-1),
                          duration_ps=30, discard_ps=2)     # as long as the Brownian runs
    runs, collected = brownian_campaign(path, {"morse": (0.25, 0.5)})
    return path, runs, collected


def _collect(path, capsys):
    capsys.readouterr()
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    err = capsys.readouterr().err
    return json.loads((path.parent / "runs" / "collect" / "results.json").read_text()), err


def test_the_same_charges_say_nothing(campaign, capsys):
    path, runs, first = campaign
    assert all("charges_replaced" not in r for r in first["runs"])
    again, err = _collect(path, capsys)
    assert "replaced the charges" not in err
    assert all("charges_replaced" not in r for r in again["runs"])


def test_changed_charges_are_named_for_each_run(campaign, capsys):
    path, runs, first = campaign
    recorded = [json.loads((r.path / "run.json").read_text())["charges"] for r in runs]
    assert recorded == [{"Li": 1, "Cl": -1}] * len(runs)
    as_written = ",".join(f"{el}={q:g}" for el, q in recorded[0].items())    # run.json's order
    path.write_text(path.read_text().replace(ANALYSIS.format(li=1, cl=-1),
                                             ANALYSIS.format(li=2, cl=-2)))
    try:
        changed, err = _collect(path, capsys)
    finally:
        path.write_text(path.read_text().replace(ANALYSIS.format(li=2, cl=-2),
                                                 ANALYSIS.format(li=1, cl=-1)))
    for run in runs:
        entry = next(r for r in changed["runs"] if r["run"] == str(run.path))
        note = entry["charges_replaced"]
        assert note.startswith("the campaign's charges Li=2,Cl=-2 replaced the charges of "
                               f"{run.path / 'run.json'}, {as_written}"), note
        assert f"ionmd: note: {run.path}: {note}" in err
    # the campaign's charges are the ones used: q^2 at the same D
    for old, new in zip(first["runs"], changed["runs"]):
        assert new["sigma_mS_cm"] == pytest.approx(4 * old["sigma_mS_cm"], rel=1e-9)
        assert new["mobile"][0]["D"] == old["mobile"][0]["D"]
