"""A protocol's seed has no upper bound: it is hashed, as its text, with each temperature
and replica into a LAMMPS velocity seed of 1 .. 2^30 (LAMMPS's documented range for
``velocity create``: a positive integer below 2^31), so a seed of time.time_ns() (~1.8e18)
or 2**63 - 1 works as any other. ffd0987 refused them past 1e18, and with them the
folders planned before by the same command (a resume is that command again)."""

from __future__ import annotations

import pytest

from ionmd.protocols import check_protocol, get_protocol, plan_runs
from ionmd.protocols.checks import apply_overrides
from protocol_setup import fcc_cell, short


@pytest.mark.parametrize("seed", [1_797_000_000_000_000_000, 2**63 - 1, 10**30])
def test_a_large_seed_plans_runs_with_lammps_seeds(tmp_path, morse, seed):
    p, problems = apply_overrides(get_protocol("conductivity"), {"seed": str(seed)})
    assert not problems and p.seed == seed
    check_protocol(p)
    rds = plan_runs(short("conductivity", seed=seed, temperatures=(600.0, 900.0)),
                    fcc_cell(), morse, tmp_path, name="x")
    seeds = {rd.velocity_seed for rd in rds}
    assert len(seeds) == 2 and all(1 <= s < 2**31 for s in seeds)
