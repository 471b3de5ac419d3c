"""Runs by hand record no model: ``ionmd analyze`` tells their potentials apart by the
``pair_style`` and ``pair_coeff`` lines their logs echo, and flags a series that mixes
them (06fc03a). It kept only the last ``pair_coeff * *`` line: under ``pair_style
hybrid/overlay ionmd FILE zbl ...`` that is the ZBL's, so runs whose ionmd covers other
types (``pair_coeff * * ionmd Li Cl`` or ``Li NULL``) read as one potential, no flag; a
per-type ``pair_coeff 1 2 zbl ...`` and an indented line (LAMMPS echoes input lines as
written: e113bb0 read only lines starting with ``pair_``) were not read at all.

The runs: Brownian Li (tests/test_analysis_series_by_model.py's hand runs), their logs
prefixed with the input lines LAMMPS echoes. Reference: the line in which each run's
input differs (the test writes it)."""

from __future__ import annotations

import pytest

from ionmd.analysis.run_spec import load_run_spec
from test_analysis_series_by_model import analyze, hand_run

HYBRID = ("pair_style hybrid/overlay ionmd a.pt zbl 1.0 2.0\n"
          "pair_coeff * * ionmd Li {cl}\n"            # NULL: ionmd leaves Cl to zbl
          "pair_coeff * * zbl 3 17\n")
PER_TYPE = ("pair_style hybrid/overlay ionmd a.pt zbl 1.0 2.0\n"
            "pair_coeff * * ionmd Li Cl\n"
            "pair_coeff 1 2 zbl 3 {z}\n")
INDENTED = ("  pair_style ionmd {model}\n"       # an input indented as a block of its own
            "  pair_coeff * * Li Cl\n")


def runs_with(tmp_path, inputs: list[str]) -> list:
    """One hand run a temperature, its log echoing ``inputs[k]`` (hand_run's own two
    lines are replaced: the input is the one given here)."""
    folders = []
    for k, (T, text) in enumerate(zip((600.0, 800.0, 1000.0), inputs)):
        folder = tmp_path / "runs" / f"{T:g}K"
        hand_run(folder, T, k, "")
        log = folder / "log.lammps"
        body = log.read_text().split("\n", 2)[2]      # hand_run's pair_style and pair_coeff
        log.write_text(text + body)
        folders.append(folder)
    return folders


@pytest.mark.parametrize("template, other", [
    (HYBRID, {"cl": "NULL"}),
    (PER_TYPE, {"z": "9"}),
    (INDENTED, {"model": "b.pt"}),
], ids=["hybrid-overlay", "per-type-coeff", "indented"])
def test_other_potentials_are_told_apart(tmp_path, template, other):
    """Two runs under one input, the third under another model (or other ZBL pair): the
    third's potential differs and the series is flagged mixed; each input's own line is
    in its potential."""
    same = template.format(model="a.pt", z="17", cl="Cl")
    changed = template.format(**{"model": "a.pt", "z": "17", "cl": "Cl", **other})
    folders = runs_with(tmp_path, [same, same, changed])
    potentials = [load_run_spec(f).potential for f in folders]
    assert potentials[0] == potentials[1] != potentials[2]
    for p, text in ((potentials[0], same), (potentials[2], changed)):
        differing = next(line.strip() for line in text.splitlines()
                         if line not in same.splitlines() or line not in changed.splitlines())
        assert differing in p
    summary = analyze(folders, tmp_path / "an", "--failures-only")
    assert summary["series"]["LiCl"].get("mixed_settings")


def test_one_potential_throughout_is_not_flagged(tmp_path):
    """The same hybrid input in every run (a restart's log echoing it twice): no flag."""
    text = HYBRID.format(cl="Cl")
    folders = runs_with(tmp_path, [text, text + text, text])
    assert len({load_run_spec(f).potential for f in folders}) == 1
    summary = analyze(folders, tmp_path / "an", "--failures-only")
    assert summary["warnings"] == [] and "mixed_settings" not in summary["series"]["LiCl"]
