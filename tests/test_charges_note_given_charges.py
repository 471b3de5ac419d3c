"""The sigma's charges note of an alloy says "the guess" and how to give other charges
only where the charges are ionmd's guess (run.json ``charges_guessed``), not where the
user gave them (``ionmd analyze --charges Li=1,Si=-2``, a run.json's own ``charges``):
before, a user who had just run ``--charges Li=1,Si=-2`` was told "the guess makes the
metal or metalloid Si its anion ... to use others, give them: ionmd analyze --charges
Li=1,Si=-2", the command they ran. The physics caveat (formal Li+ in an alloy: a formal
Nernst-Einstein sigma) stays either way. The run is a Li2Si cell (16 Li, 8 Si) with the
formal Zintl charges Li+ and Si 2-, neutral."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from pymatgen.core import Composition

from ionmd.cli import main
from test_analyze_alloy_charges_note import _run_dir

HINT = "to use others, give them"


def _note(run, *extra: str) -> str:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["analyze", str(run), "--collapse-fraction", "0.01", *extra]) in (0, None)
    return json.loads((run / "analysis" / "results.json").read_text())["conductivity"][
        "charges_note"]


@pytest.fixture(scope="module")
def lisi(tmp_path_factory):
    """A 16 Li + 8 Si run whose run.json holds Zintl charges marked as ionmd's guess."""
    guess = {"Li": 1, "Si": -2}
    assert sum(q * n for q, n in zip(guess.values(), Composition("Li2Si").values())) == 0
    run = tmp_path_factory.mktemp("given") / "LiSi"
    _run_dir(run, "Si", guess)
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "charges_guessed": True}))
    return run


def test_guessed_charges_keep_the_guess_and_the_hint(lisi):
    note = _note(lisi)
    assert "the guess makes the metal or metalloid Si its anion" in note
    assert HINT in note and "ionmd analyze --charges Li=1,Si=-2" in note


def test_given_charges_keep_the_caveat_without_guess_or_hint(lisi):
    note = _note(lisi, "--charges", "Li=1,Si=-2")
    assert "formal ionic Nernst-Einstein" in note and "Si its anion" in note   # the caveat
    assert "guess" not in note and HINT not in note and "--charges" not in note


def test_run_json_charges_without_the_mark_are_the_users(lisi, tmp_path):
    from ionmd.analysis.run_spec import load_run_spec

    assert load_run_spec(lisi).charges_guessed
    assert not load_run_spec(lisi, {"charges": {"Li": 1.0, "Si": -2.0}}).charges_guessed
    meta = json.loads((lisi / "run.json").read_text())
    meta["charges_guessed"] = "yes"
    (lisi / "run.json").write_text(json.dumps(meta))
    try:
        with pytest.raises(Exception, match="'charges_guessed' must be true or false"):
            load_run_spec(lisi)
        del meta["charges_guessed"]
        (lisi / "run.json").write_text(json.dumps(meta))
        assert not load_run_spec(lisi).charges_guessed
    finally:
        (lisi / "run.json").write_text(json.dumps({**meta, "charges_guessed": True}))
