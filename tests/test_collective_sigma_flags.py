"""The collective sigma carries the flags of the ions it is made of. Before, results.json's
``conductivity_collective`` had no ``flags`` (the Nernst-Einstein ``conductivity`` had
them), so a collective sigma from a fit start inside the ions' cage printed as a plain
number. The reference: the truth of the walk (Nernst-Einstein of the Brownian D, the ions
independent), and the tracer checks' own flags."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ionmd.analysis.conductivity import nernst_einstein
from ionmd.analysis.run_analysis import transport
from ionmd.analysis.trajectory import Trajectory

N, DT_PS, D_A2_PS, L = 16, 0.02, 0.1, 30.0


def walk(caged: bool, seed: int) -> Trajectory:
    """16 Brownian Li over 20 ps (a frame every 0.02 ps) in a 30 A box; ``caged``: each
    also rattles in a cage (1.4 A rms, 0.1 ps correlation time), the MSD's sub-diffusive
    rise of diffusion.py's measurements."""
    rng = np.random.default_rng(seed)
    nf = 1001
    steps = rng.normal(0, np.sqrt(2 * D_A2_PS * DT_PS), (nf - 1, N, 3))
    pos = np.concatenate([np.zeros((1, N, 3)), np.cumsum(steps, 0)]) + rng.uniform(0, L, (1, N, 3))
    if caged:
        a, s = np.exp(-DT_PS / 0.1), 1.4 / np.sqrt(3)
        x = np.zeros((nf, N, 3))
        x[0] = rng.normal(0, s, (N, 3))
        for t in range(1, nf):
            x[t] = a * x[t - 1] + np.sqrt(1 - a * a) * rng.normal(0, s, (N, 3))
        pos = pos + x
    return Trajectory(pos, np.repeat((L * np.eye(3))[None], nf, 0), np.arange(nf) * 20,
                      np.array(["Li"] * N), np.full(N, 6.94), 1.0)


def analysed(traj: Trajectory, fit_start_ps: float) -> dict:
    spec = SimpleNamespace(mobile_species=["Li"], charges={"Li": 1.0}, temperature_K=600.0,
                           run_status={}, charges_guessed=False, path="walk")
    part, _, _ = transport(spec, traj, directions=("xyz",), fit_start_ps=fit_start_ps,
                           fit_end_ps=None, window_ps=15.0, haven_ratio=1.0, collective=True,
                           seed=0, hop_length=1.5, min_hops=1.0)
    return part


def test_a_collective_sigma_from_inside_the_cage_is_flagged_as_its_ions_are():
    part = analysed(walk(True, 3), 0.1)
    (d,) = part["diffusion"]
    assert "fit_start_not_diffusive" in d["flags"]      # the tracer's own check
    coll = part["conductivity_collective"]
    true = nernst_einstein(D_A2_PS * 1e-4, N, 1.0, L ** 3, 600.0)
    assert coll["sigma"] > 2 * true                     # the flag marks a wrong value
    assert coll["flags"] == part["conductivity"]["flags"] == sorted(d["flags"])
    assert "fit start" in coll["flags_note"]


def test_a_diffusive_collective_sigma_has_no_flags():
    part = analysed(walk(False, 4), 1.0)
    coll = part["conductivity_collective"]
    true = nernst_einstein(D_A2_PS * 1e-4, N, 1.0, L ** 3, 600.0)
    lo, hi = coll["sigma_ci95"]
    assert lo < true < (hi if hi is not None else np.inf)
    assert coll["flags"] == [] == part["diffusion"][0]["flags"]


if __name__ == "__main__":
    pytest.main([__file__])
