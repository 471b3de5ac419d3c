"""E-V scan leftovers (audit A18/A23): an even ``n_points`` (no unstrained point) splits
the paper's Spearman coefficients around s = 0 without a point, the energy step across
s = 0 on neither side (before: counted as compressed); the written LAMMPS input's comments
say what the scan is (a volume scan said 'each lattice vector scaled by 1 + s', and the
template's 'listed in $data_files' became the list of files)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from ionmd.protocols import analyse_ev, get_protocol
from ionmd.protocols.evscan import write_ev_scan
from protocol_setup import fcc_cell, morse_model


def test_even_scan_sides_split_around_zero_strain():
    """Six points, s = -0.25 .. 0.25 (V = 1 + s): the step from s = -0.05 to +0.05 falls
    more steeply than the compressed one before it (a kink at s = 0), so counting it as
    compressed lowers that side's dE/dV rank correlation; split by hand at s = 0 it is +1."""
    s = np.linspace(-0.25, 0.25, 6)
    v = 1.0 + s
    e = np.array([5.0, 2.0, 0.5, -1.5, -1.0, 0.0])      # slopes -30, -15, -20 (across 0), 5, 10
    res = analyse_ev(v, e)
    below, above = s < 0, s > 0
    vm, slope = (v[1:] + v[:-1]) / 2, np.diff(e) / np.diff(v)
    inside_below = below[1:] & below[:-1]        # steps with both ends at s < 0
    inside_above = above[1:] & above[:-1]
    ref = (spearmanr(v[below], e[below])[0], spearmanr(vm[inside_below], slope[inside_below])[0],
           spearmanr(v[above], e[above])[0], spearmanr(vm[inside_above], slope[inside_above])[0])
    got = (res.spearman_compression_energy, res.spearman_compression_derivative,
           res.spearman_tension_energy, res.spearman_tension_derivative)
    assert got == pytest.approx(ref)
    assert res.spearman_compression_derivative == pytest.approx(1.0)   # 0.5 with the step
    assert not res.failed                              # one sign change: a single well


def test_odd_scan_split_unchanged():
    """21 points: the split stays at the unstrained point (MLIP Arena's len(E) // 2)."""
    s = np.linspace(-0.2, 0.2, 21)
    v = 100.0 * (1 + s)
    e = (v - 98.0) ** 2 / 50 + 0.01 * np.sin(7 * s)
    res = analyse_ev(v, e)
    vm, slope = (v[1:] + v[:-1]) / 2, np.diff(e) / np.diff(v)
    assert res.spearman_compression_derivative == pytest.approx(spearmanr(vm[:10], slope[:10])[0])
    assert res.spearman_tension_energy == pytest.approx(spearmanr(v[10:], e[10:])[0])


@pytest.mark.parametrize("strain, says", [
    ("lattice", "each lattice vector scaled by 1 + s, V/V0 = (1 + s)^3"),
    ("volume", "V/V0 = 1 + s, each lattice vector scaled by (1 + s)^(1/3)")])
def test_the_written_input_says_what_the_scan_is(tmp_path, strain, says):
    proto = get_protocol("ev-scan")
    model = morse_model(tmp_path / "morse.pt")
    cell = fcc_cell(a=3.62, reps=1)
    folder = write_ev_scan(proto, cell, model, tmp_path / strain, name="fcc", strain=strain)
    text = (folder / "in.ev.lmp").read_text()
    comments = "\n".join(ln for ln in text.splitlines() if ln.lstrip().startswith("#"))
    assert says in comments
    wrong = {"lattice": "(1 + s)^(1/3)", "volume": "vector scaled by 1 + s"}[strain]
    assert wrong not in comments
    files = sorted(p.name for p in folder.glob("ev.*.data"))
    assert len(files) == proto.n_points
    assert " ".join(files[:2]) not in comments      # the list filled into a comment
    assert f"{files[0]} .. {files[-1]}" in comments and "s = -0.2 .. 0.2 in 21 points" in comments
    # the commands are the template's, filled in: every data file in the index variable
    assert f"variable        f index {' '.join(files)}" in text
