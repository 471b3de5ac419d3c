"""Costs measured from real LAMMPS logs (ionmd.sweep.cost, ionmd.sweep.allocate's
cost_per_ps_from_logs): a minimisation's loop is no MD, and ``Loop time ... on N procs``
counts ranks x threads, so runs measured with other resources than the planned ones are
converted, not taken at face value. The references are LAMMPS's own lines: the MD run's
``Performance: ... timesteps/s`` and ``CPU use with R MPI tasks x T OpenMP threads``."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from ionmd.sweep.allocate import cost_per_ps_from_logs
from ionmd.sweep.cost import md_loops, measured_cost, over_walltime
from lammps_runner import run_lmp

# LJ with a minimisation (cheap steps), a setup-only run 0, then MD whose steps are ~10x
# dearer (an RDF every step): a minimisation counted as MD shifts the cost by ~20 %
SCRIPT = """units lj
atom_style atomic
lattice fcc 0.8442
region box block 0 4 0 4 0 4
create_box 1 box
create_atoms 1 box
mass 1 1.0
displace_atoms all random 0.05 0.05 0.05 1234
velocity all create 1.44 87287 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
comm_modify cutoff 6.0
minimize 0 0 100 1000
run 0
compute rdf all rdf 2000 cutoff 5.0
fix rdf all ave/time 1 1 1 c_rdf[*] mode vector
fix 1 all nve
run 300
"""
MD_STEPS, ATOMS, DT_FS = 300, 256, 2.0


def reference(log: str) -> dict:
    """The MD run as LAMMPS reports it: seconds from its timesteps/s, ranks x threads."""
    per_s = float(re.findall(r"Performance:.*?([0-9.]+) timesteps/s", log)[-1])
    ranks, threads = map(int, re.findall(r"with (\d+) MPI tasks x (\d+) OpenMP threads", log)[-1])
    return {"seconds": MD_STEPS / per_s, "cores": ranks * threads}


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """One run folder per resources: 1 rank x 2 threads, 2 ranks x 1 thread, 1 x 1."""
    out = {}
    for name, nprocs, threads in (("omp2", 1, 2), ("mpi2", 2, 1), ("one", 1, 1)):
        folder = tmp_path_factory.mktemp(name)
        run_lmp(SCRIPT, folder, nprocs=nprocs, env={"OMP_NUM_THREADS": str(threads)})
        (folder / "log.lammps").rename(folder / "log.0.lammps")   # ionmd's piece name
        out[name] = folder
    return out


def test_only_md_loops_count_and_procs_are_ranks_times_threads(logs):
    for folder in logs.values():
        text = (folder / "log.0.lammps").read_text()
        ref = reference(text)
        assert len(re.findall(r"^Loop time", text, flags=re.M)) == 3   # minimize, run 0, run
        (loop,) = md_loops(text)
        assert (loop.steps, loop.atoms, loop.procs) == (MD_STEPS, ATOMS, ref["cores"])
        assert loop.seconds == pytest.approx(ref["seconds"], rel=2e-3)


@pytest.mark.parametrize("name", ["omp2", "mpi2", "one"])
def test_core_hours_per_ps_are_what_the_md_used(logs, name):
    """A core-hour budget planned with 1 core (units = cores = 1) is charged the core
    time the measured run really took, whatever its ranks x threads; the old code added
    the minimisation's cheap steps (about -20 %) and charged the wall time of a 2-core
    run as 1 core's (x 1/2)."""
    ref = reference((logs[name] / "log.0.lammps").read_text())
    expected = ref["seconds"] * ref["cores"] / MD_STEPS * (1000.0 / DT_FS) / 3600.0
    got = cost_per_ps_from_logs(logs[name], timestep_fs=DT_FS, units=1, cores=1)
    assert got == pytest.approx(expected, rel=2e-3)
    # planned with the measured cores: the wall time as measured, times what a run occupies
    got = cost_per_ps_from_logs(logs[name], timestep_fs=DT_FS, units=3, cores=ref["cores"])
    assert got == pytest.approx(3 * ref["seconds"] / MD_STEPS * (1000.0 / DT_FS) / 3600.0, rel=2e-3)


def test_logs_measured_with_the_planned_cores_are_preferred(logs, tmp_path):
    """A run folder with pieces run on 1 and on 2 cores: planned on 2, only the 2-core
    pieces count (measured, no scaling assumed)."""
    both = tmp_path / "both"
    both.mkdir()
    for k, name in enumerate(("one", "mpi2")):
        (both / f"log.{k}.lammps").write_text((logs[name] / "log.0.lammps").read_text())
    two = reference((logs["mpi2"] / "log.0.lammps").read_text())
    got = cost_per_ps_from_logs(both, timestep_fs=DT_FS, units=2, cores=2)
    assert got == pytest.approx(2 * two["seconds"] / MD_STEPS * (1000.0 / DT_FS) / 3600.0, rel=2e-3)


def test_walltime_estimate_at_the_planned_cores(logs):
    """``sweep plan``'s estimate for runs planned on 4 cores from a campaign measured with
    1 rank x 2 threads: the measured core-seconds per atom-step spread over 4 cores (ideal
    scaling: the fastest 4 cores can be), not the 2-core wall time."""
    ref = reference((logs["omp2"] / "log.0.lammps").read_text())
    per_atom_step = ref["seconds"] / (MD_STEPS * ATOMS)
    assert measured_cost([logs["omp2"]]) == pytest.approx(per_atom_step, rel=2e-3)
    assert measured_cost([logs["omp2"]], cores=4) == pytest.approx(per_atom_step * 2 / 4, rel=2e-3)
    steps, atoms = 10_000_000, 1000
    run = SimpleNamespace(model="lj", structure="s", path=Path(logs["omp2"]),
                          rundir=SimpleNamespace(planned_steps=steps))
    hours_2 = per_atom_step * steps * atoms / 3600.0
    (est,) = over_walltime([run], {"s": atoms}, walltime_min=1.0, cores=4)
    assert est.hours == pytest.approx(hours_2 / 2, rel=2e-3)
    (est,) = over_walltime([run], {"s": atoms}, walltime_min=1.0, cores=2)
    assert est.hours == pytest.approx(hours_2, rel=2e-3)
    assert over_walltime([run], {"s": atoms}, walltime_min=hours_2 * 60 * 0.6, cores=4) == []
