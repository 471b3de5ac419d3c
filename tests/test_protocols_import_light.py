"""``ionmd.protocols`` (imported by every ``ionmd`` command, ``--help`` included, and by a
notebook's ``from ionmd.protocols import get_protocol``) imported scipy.optimize and
scipy.stats at module level for the E-V fit: 2 of the 3 s of ``ionmd --help`` on this
machine (2.9-3.2 s -> 1.1-1.3 s). They are now imported where the fit runs; the fit itself
is checked against a Birch-Murnaghan curve of known parameters."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ionmd.protocols.ev_analysis import birch_murnaghan, fit_birch_murnaghan


def test_importing_protocols_leaves_scipy_optimize_and_stats_unimported():
    code = ("import sys, ionmd.protocols; "
            "print([m for m in ('scipy.optimize', 'scipy.stats') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]", out


def test_the_birch_murnaghan_fit_recovers_its_parameters():
    v = np.linspace(90.0, 110.0, 9)
    e0, v0, b0, bp = -42.0, 100.5, 0.5, 4.6            # eV, A^3, eV/A^3 (80 GPa), 1
    fit = fit_birch_murnaghan(v, birch_murnaghan(v, e0, v0, b0, bp))
    assert fit == pytest.approx((e0, v0, b0, bp), rel=1e-7)
