"""Velocity seeds of run directories: every (temperature, replica) of a protocol draws its
own, recorded in settings.json; directories written when the seed was ``seed + replica``
at every temperature keep that seed when they are reopened."""

from __future__ import annotations

import json
import re

from ionmd.protocols import plan_runs
from ionmd.protocols.md_input import render_md
from ionmd.analysis.run_files import SETTINGS
from ionmd.protocols.rundir import velocity_seed
from protocol_setup import fcc_cell, short


def seed_in_input(rd) -> int:
    """The seed of the `velocity ... create` line LAMMPS would run."""
    (seed,) = re.findall(r"^velocity\s+all create \S+ (\d+) ", render_md(rd, 0, None), re.M)
    return int(seed)


def test_each_temperature_and_replica_draws_its_own_seed(tmp_path, morse):
    proto = short("conductivity-nvt", temperatures=(600.0, 800.0), replicas=2, seed=7)
    runs = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")
    seeds = {(rd.temperature, rd.replica): seed_in_input(rd) for rd in runs}
    assert len(seeds) == 4 and len(set(seeds.values())) == 4, seeds
    for rd in runs:
        recorded = json.loads((rd.path / SETTINGS).read_text())["velocity_seed"]
        assert recorded == seeds[(rd.temperature, rd.replica)] == rd.velocity_seed
        assert recorded == velocity_seed(7, rd.temperature, rd.replica)
        assert 0 < recorded < 2**31 - 1          # LAMMPS's range for a seed

    # a temperature added later leaves the other runs (and their seeds) as they were
    more = short("conductivity-nvt", temperatures=(600.0, 700.0, 800.0), replicas=2, seed=7)
    again = {(rd.temperature, rd.replica): seed_in_input(rd)
             for rd in plan_runs(more, fcc_cell(), morse, tmp_path, name="fcc")}
    assert {k: again[k] for k in seeds} == seeds
    assert len(set(again.values())) == 6

    # another protocol seed: other draws
    other = plan_runs(short("conductivity-nvt", temperatures=(600.0, 800.0), replicas=2,
                            seed=8), fcc_cell(), morse, tmp_path / "other", name="fcc")
    assert not {seed_in_input(rd) for rd in other} & set(seeds.values())


def test_a_directory_written_before_seeds_were_recorded_keeps_seed_plus_replica(tmp_path,
                                                                                morse):
    proto = short("conductivity-nvt", temperatures=(600.0, 800.0), replicas=2, seed=7)
    runs = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")
    for rd in runs:                               # as the old code wrote them
        settings = json.loads((rd.path / SETTINGS).read_text())
        del settings["velocity_seed"]
        (rd.path / SETTINGS).write_text(json.dumps(settings))

    more = short("conductivity-nvt", temperatures=(600.0, 800.0), replicas=3, seed=7)
    reopened = plan_runs(more, fcc_cell(), morse, tmp_path, name="fcc")   # not refused
    for rd in reopened:
        if rd.replica < 2:                        # the old runs: as they ran
            assert seed_in_input(rd) == 7 + rd.replica
            assert "velocity_seed" not in json.loads((rd.path / SETTINGS).read_text())
        else:                                     # a replica added now: a seed of its own
            assert seed_in_input(rd) == velocity_seed(7, rd.temperature, rd.replica)
