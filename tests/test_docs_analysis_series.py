"""docs/analysis.md and docs/sweeps.md say what `ionmd analyze` and `collect` do with several
runs: the series names they give (`A/<model>@<hash8>` where two model files share a name, not
`<model>@<hash8>`), where one run's results go (`OUT/<its folder's name>`, no path below a
common folder), and how replicas of one temperature are combined (the Arrhenius section said
"the same way" as the fit's inverse-variance weights; sweeps.md widened them "where their
scatter exceeds their errors", not at Welch's 5 % test)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ionmd.analysis.replica_combination import combine_replicas
from ionmd.analysis.replica_statistics import SCATTER_ALPHA
from ionmd.analysis.output_layout import output_dirs
from ionmd.analysis.series_identity import series_names

ROOT = Path(__file__).resolve().parents[1]
ANALYSIS = (ROOT / "docs" / "analysis.md").read_text()
SWEEPS = (ROOT / "docs" / "sweeps.md").read_text()


def test_series_names_are_spelled_as_the_doc_shows():
    runs = [{"structure": "A", "model": "m", "model_hash": "0123456789abcdef"},
            {"structure": "A", "model": "m", "model_hash": "fedcba9876543210"},
            {"structure": "A", "model": "other", "model_hash": "aaaaaaaaaaaaaaaa"}]
    names = set(series_names(runs).values())
    assert names == {"A/m@01234567", "A/m@fedcba98", "A/other"}     # the code, as read
    shown = set(re.findall(r"`(A/<model>(?:@<hash8>)?)`", ANALYSIS))
    as_shown = {re.sub(r"@\w{8}$", "@<hash8>", n).replace("/m", "/<model>")
                .replace("/other", "/<model>") for n in names}
    assert as_shown == shown, f"analysis.md shows {sorted(shown)}, the names are {sorted(names)}"


def test_one_runs_output_folder_is_as_the_doc_says(tmp_path):
    run = tmp_path / "runs" / "T500K" / "r0"
    assert output_dirs([run], "analysis") == [Path("analysis") / "r0"]
    assert "one run in `OUT/<its folder's name>`" in ANALYSIS.replace("\n", " ")


def _paragraph(text: str, start: str) -> str:
    """From ``start`` to the next blank line or list item."""
    tail = text[text.index(start):]
    return re.split(r"\n\s*\n|\n- ", tail, maxsplit=1)[0].replace("\n", " ")


def test_replica_combination_is_described_as_done():
    level = f"{SCATTER_ALPHA:.0%}".replace("%", " %")
    # the code: alike replicas get equal weights in D (the mean is the arithmetic one,
    # unbiased), widened by Welch's F where Welch's test rejects at SCATTER_ALPHA
    q = 2.365                             # Student t, 8 ions: 7 degrees of freedom
    iv = [(v * np.exp(-q * 0.1), v * np.exp(q * 0.1)) for v in (1.0, 2.0)]
    far = combine_replicas([1.0, 2.0], iv, quantiles=[q, q])
    assert far["weights"] == "equal"
    assert np.isclose(far["value"], 1.5)                   # arithmetic mean
    assert "scatter_F" in far                              # 2x apart at 0.1 each: widened
    for page, start in ((ANALYSIS, "replicas of one temperature are combined"),
                        (SWEEPS, "Replicas are combined in D itself")):
        said = _paragraph(page, start)
        for words in ("equal weights", "Welch-Satterthwaite", "Welch's F", level):
            assert words in said, f"{start!r}: {words!r} missing in {said!r}"
