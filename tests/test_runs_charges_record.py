"""An alloy's sigma keeps the caveat of its formal charges where it is read later:
``summary.json``'s run records (``runs``, by temperature) hold each run's
``sigma_mS_cm`` and, since this test, its ``charges_note`` beside it (before: the note was
in ``results.json``'s conductivity only, and a sigma read from the summary's runs had lost
it). The note is the charges module's own (:func:`ionmd.structures.charges.transport_note`
of the run's composition), whether the charges come from run.json or ``--charges``."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from ionmd.cli import main
from ionmd.structures import transport_charges
from ionmd.structures.charges import transport_note
from test_analyze_alloy_charges_note import _run_dir


def _analyse(run, *extra: str) -> tuple[dict, dict]:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["analyze", str(run), "--collapse-fraction", "0.01", *extra]) in (0, None)
    return (json.loads((run / "analysis" / "results.json").read_text()),
            json.loads((run / "analysis" / "summary.json").read_text()))


def _records(summary: dict) -> list[dict]:
    runs = summary["runs"]
    return [r for rs in runs.values() for r in rs] if isinstance(runs, dict) else list(runs)


@pytest.fixture(scope="module")
def li2si(tmp_path_factory):
    run = tmp_path_factory.mktemp("alloy_record") / "LiSi"
    _run_dir(run, "Si", transport_charges("Li2Si"))
    return run


@pytest.mark.parametrize("given", [(), ("--charges", "Li=1")])
def test_summary_run_records_keep_the_charges_note(li2si, given):
    results, summary = _analyse(li2si, *given)
    # the user's charges (run.json's own or --charges): the caveat, without the guess' hint
    expected = transport_note({"Li": 16, "Si": 8}, {"Li": 1.0}, given=True)
    assert expected and "formal ionic Nernst-Einstein" in expected
    assert results["conductivity"]["charges_note"] == expected
    (record,) = [r for r in _records(summary) if r.get("sigma_mS_cm") is not None]
    assert record["sigma_mS_cm"] == results["conductivity"]["sigma"]
    assert record["charges_note"] == expected                 # was missing
    assert results["run_record"]["charges_note"] == expected


def test_collect_run_entries_keep_the_charges_note(li2si):
    """collect's per-run entries (results.json ``runs``) are the same run records: the note
    is beside their sigma too (they had sigma_mS_cm without it)."""
    from types import SimpleNamespace

    from ionmd.sweep.collect import run_entry

    results, _ = _analyse(li2si)
    planned = SimpleNamespace(structure="LiSi", model="m", temperature=results["temperature_K"],
                              replica=0, seed=1)
    entry = run_entry(planned, {**results, "class": "completed", "status": None})
    expected = transport_note({"Li": 16, "Si": 8}, {"Li": 1.0}, given=True)
    assert entry["sigma_mS_cm"] == results["conductivity"]["sigma"]
    assert entry["charges_note"] == expected
