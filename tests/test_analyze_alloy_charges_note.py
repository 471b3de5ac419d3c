"""``ionmd analyze`` says what an alloy's sigma assumes, next to the sigma. A Li-Si alloy
anode (Li2Si here; the Li-Si phases: Obrovac & Chevrier, Chem. Rev. 114 (2014) 11444) has
no ordinary anion: its Li+ is a Zintl formal charge, and the Nernst-Einstein sigma is the
formal ionic one, not the alloy's (electrons carry its current). The sweep's collect said
so (``charges_note``); analyze printed the sigma without a word. A LiCl run carries no note.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.cli import main

T = 800.0


def _run_dir(path, framework: str, charges: dict, guessed: bool = False) -> None:
    """One synthetic run: 16 Li walking among 8 fixed ``framework`` atoms (DCD written by
    MDAnalysis, data file by ASE), run.json with ``charges`` as prepare writes them
    (``guessed``: marked as ionmd's guess, run.json ``charges_guessed``)."""
    rng = np.random.default_rng(3)
    s = st.make(st.brownian_steps(200, 16, [0.1] * 3, 0.1, rng), L=12.0, rng=rng)
    symbols = [framework if e == "Cl" else e for e in s.true.elements.tolist()]
    path.mkdir()
    st.write_lammps_files(path, s, [T] * len(s.true.boxes), specorder=[framework, "Li"],
                          symbols=symbols, loop_steps=10000)
    (path / "run.json").write_text(json.dumps({
        "schema": "ionmd-run/1", "temperature_K": T, "timestep_fs": 2.0, "dump_every": 50,
        "discard_ps": 2.0, "mobile_species": ["Li"], "charges": charges,
        "type_map": {"1": framework, "2": "Li"}, "structure": f"Li{framework}",
        **({"charges_guessed": True} if guessed else {})}))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """(printed output, results.json, summary.json) of analyze on a Li2Si and a LiCl run."""
    from ionmd.structures import transport_charges

    root = tmp_path_factory.mktemp("alloy")
    out = {}
    for framework in ("Si", "Cl"):
        run = root / f"Li{framework}"
        # the charges prepare records (Li2Si: Li+ alone, no formal states fit; LiCl: Li+ Cl-)
        _run_dir(run, framework, transport_charges(f"Li2{framework}" if framework == "Si"
                                                   else "LiCl"), guessed=True)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(["analyze", str(run), "--collapse-fraction", "0.01"]) in (0, None)
        out[framework] = (printed.getvalue(),
                          json.loads((run / "analysis" / "results.json").read_text()),
                          json.loads((run / "analysis" / "summary.json").read_text()))
    return out


def test_an_alloys_sigma_is_printed_with_its_charges_note(analysed):
    printed, results, summary = analysed["Si"]
    lines = printed.splitlines()
    sigma = next(i for i, line in enumerate(lines) if "sigma_NE =" in line)
    note = lines[sigma + 1]           # the line right below the sigma
    assert note.strip().startswith("charges: Li2Si is an intermetallic or Zintl phase")
    assert "formal ionic Nernst-Einstein" in note and "ionmd analyze --charges Li=1" in note
    assert results["conductivity"]["charges_note"] == note.strip()[len("charges: "):]
    # and below the structure's sigma(300 K) in the summary
    assert summary["structures"]["LiSi"]["charges_note"] == results["conductivity"]["charges_note"]
    assert printed.count("charges: Li2Si") == 2


def test_an_ionic_solids_sigma_has_no_note(analysed):
    printed, results, summary = analysed["Cl"]
    assert "sigma_NE =" in printed and "charges:" not in printed
    assert "charges_note" not in results["conductivity"]
    assert "charges_note" not in summary["structures"]["LiCl"]
