"""Strong scaling of pair_style mlip: 1 rank vs N ranks, redundant ghost shell vs
per-layer halo exchange, on a LiCl rock-salt supercell (1 torch thread per rank).

    python examples/bench_halo.py MODEL.pt --rep 8 --steps 3 --np 2 [--modes halo,redundant]

Prints atom-steps/s (from LAMMPS's loop time of a short NVE run after one warm-up
force call; the loop also holds the run's setup force call, so with --steps 1 "s/step"
is the time of two force calls), the strong-scaling efficiency t1 / (N t_N), the same from CPU time
(LAMMPS's "% CPU use" x loop time: on a shared machine where ranks do not get a whole
core each, this is the one that measures the parallel overhead), and the peak resident
memory per rank (GNU time's maximum RSS of each `lmp` process, torch included), as a
table and as JSON (-o FILE)."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from ase.build import bulk
from ase.io import write

BIN = Path(sys.executable).parent

INPUT = """units metal
atom_style atomic
atom_modify map yes
read_data ../struct.data
pair_style mlip {model} {extra}
pair_coeff * * Cl Li
velocity all create 600 3 loop geom
fix nve all nve
thermo 1
run 0
run {steps}
"""


def run_case(model: Path, work: Path, nprocs: int, extra: str, steps: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    (work / "in.lmp").write_text(INPUT.format(model=model, extra=extra, steps=steps))
    timed = ["/usr/bin/time", "-f", "MAXRSS_KB %M", str(BIN / "lmp"), "-in", "in.lmp"]
    cmd = timed if nprocs == 1 else [str(BIN / "mpirun"), "-np", str(nprocs)] + timed
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    rss = [int(x) / 1024 for x in re.findall(r"MAXRSS_KB (\d+)", proc.stdout)]
    if proc.returncode != 0:
        print(proc.stdout[-1500:], file=sys.stderr)
        return {"np": nprocs, "mode": extra or "auto", "failed": f"exit status {proc.returncode}",
                "peak_rss_mib_per_rank": max(rss, default=float("nan"))}
    loops = re.findall(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms",
                       proc.stdout)
    t, _, nsteps, natoms = loops[-1]
    cpu_use = float(re.findall(r"([0-9.]+)% CPU use", proc.stdout)[-1]) / 100.0
    return {"np": nprocs, "mode": extra or "auto", "atoms": int(natoms), "steps": int(nsteps),
            "seconds": float(t), "cpu_seconds_all_ranks": cpu_use * float(t) * nprocs,
            "atom_steps_per_s": int(natoms) * int(nsteps) / float(t),
            "peak_rss_mib_per_rank": max(rss)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model")
    ap.add_argument("--rep", type=int, default=8, help="conventional cells per edge (8 -> 4096 atoms)")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--modes", default="halo,redundant")
    ap.add_argument("-o", "--output", default=None)
    args = ap.parse_args()

    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (args.rep, args.rep, args.rep)
    atoms.rattle(0.02, seed=1)
    work = Path(tempfile.mkdtemp(prefix="bench_halo_"))
    write(work / "struct.data", atoms, format="lammps-data", specorder=["Cl", "Li"],
          masses=True, atom_style="atomic")
    model = Path(args.model).resolve()
    rows = [run_case(model, work / "np1", 1, "", args.steps)]
    for mode in args.modes.split(","):
        row = run_case(model, work / f"np{args.np}_{mode}", args.np, f"ghost {mode}", args.steps)
        if "seconds" in row:
            row["efficiency"] = rows[0]["seconds"] / (args.np * row["seconds"])
            row["cpu_efficiency"] = rows[0]["cpu_seconds_all_ranks"] / row["cpu_seconds_all_ranks"]
        rows.append(row)
    print(f"{'np':>3} {'mode':>16} {'atoms':>6} {'s/step':>8} {'atom-steps/s':>12} "
          f"{'efficiency':>10} {'cpu eff.':>8} {'peak MiB/rank':>13}")
    for r in rows:
        if "failed" in r:
            print(f"{r['np']:>3} {r['mode']:>16} failed ({r['failed']}), peak "
                  f"{r['peak_rss_mib_per_rank']:.0f} MiB/rank")
            continue
        print(f"{r['np']:>3} {r['mode']:>16} {r['atoms']:>6} {r['seconds'] / r['steps']:>8.3f} "
              f"{r['atom_steps_per_s']:>12.1f} {r.get('efficiency', 1.0):>10.2f} "
              f"{r.get('cpu_efficiency', 1.0):>8.2f} "
              f"{r['peak_rss_mib_per_rank']:>13.0f}")
    if args.output:
        Path(args.output).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
