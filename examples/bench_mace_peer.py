"""Same-run peer benchmark for MACE on CPU: pair_style ionmd vs Symmetrix-XL's ASE calculator.

Model: random weights with MACE-MP-0a medium's layout (128 channels, max_L 1, correlation 3,
2 interactions, r_max 6 A; elements Li P S Cl, tests/tiny_mace.py), saved once under the peer
venv's mace-torch (e3nn 0.4.4), then from that one file
  - extracted for Symmetrix-XL with `symmetrix_extract_mace` (compact JSON, all elements),
  - exported for ionmd with ionmd.export.export_mace (float32, TorchScript and/or AOTInductor).
A check on a 64-atom LiCl cell compares both with MACE's own calculator (float64) on the
original file: the two sides run the same model.

Per LiCl supercell, every variant runs in its own subprocess with OMP_NUM_THREADS=--threads,
interleaved, best of --repeats:
  ionmd-FORMAT       lmp -in, NVE: `run 1` (warm-up), then `run STEPS`; atom-steps/s from the
                     Loop time (the whole MD step; the Pair-only rate is in the JSON)
  symmetrix-PROFILE  ASE VelocityVerlet with symmetrix.Symmetrix(JSON, dtype="float32",
                     execution_profile=PROFILE) after get_forces + 2 warm-up steps; at least
                     STEPS steps and --min-seconds
Peak host memory: the maximum resident set of each subprocess (/usr/bin/time %M: the largest
process of its tree), in MB (1e6 B) per atom; "worker" is the computing process's own VmHWM
(the lmp binary, as pair_style ionmd reports it; the Symmetrix Python process). Both include
each process's fixed footprint (libtorch + LAMMPS for ionmd, Python + numpy + ASE + the
native backend for Symmetrix), which dominates at ~100 atoms.

Setup: examples/peers/symmetrix_setup.sh (peer venv, default .peers/symmetrix-venv).
usage: .venv/bin/python examples/bench_mace_peer.py [--export-dir DIR] [--sizes 2x2x3 5x5x5]
           [--formats torchscript unfused aoti] [--profiles capacity speed] [--threads 2]
           [--repeats 2] [--min-seconds 5] [--peer-venv DIR] [-o bench_mace_peer.json]
The export dir keeps the model, its exports and Symmetrix's JIT cache (the first Symmetrix
float32 specialisation compiles for ~5 min, the AOTInductor export 2-4 min); reuse it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SELF = str(Path(__file__).resolve())
HERE = Path(SELF).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
MODEL_KW = {"channels": 128, "num_interactions": 2, "correlation": 3, "max_L": 1, "r_max": 6.0}
CHECK_CELL = (2, 2, 2)


# ---- run under the peer venv's python (`bench_mace_peer.py _peer MODE ...`) ----------------

def peer_main(mode: str, *args: str) -> None:
    import numpy as np
    from bench_sevennet import licl

    if mode == "build":                      # save the random model the way MACE does
        sys.path.insert(0, str(ROOT / "tests"))
        from tiny_mace import write_tiny_mace

        write_tiny_mace(args[0], **MODEL_KW)
        return
    from symmetrix import Symmetrix

    if mode == "check":                      # MACE float64 on the .model, Symmetrix float32
        from mace.calculators import MACECalculator

        model, model_json, out = args
        result = {}
        for name, calc in (("mace_f64", lambda: MACECalculator(
                               model_paths=model, device="cpu", default_dtype="float64")),
                           ("symmetrix_f32", lambda: Symmetrix(model_json, dtype="float32"))):
            atoms = licl(CHECK_CELL)
            atoms.calc = calc()
            result[name] = np.concatenate([[atoms.get_potential_energy()],
                                           atoms.get_forces().ravel()])
        np.savez(out, **result)
        return
    if mode == "time":                       # ASE NVE with the Symmetrix calculator
        from ase import units
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
        from ase.md.verlet import VelocityVerlet

        model_json, rep, profile, steps, min_seconds = args
        atoms = licl(tuple(int(x) for x in rep.split("x")))
        atoms.calc = Symmetrix(model_json, dtype="float32", execution_profile=profile)
        MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(1))
        dyn = VelocityVerlet(atoms, 1.0 * units.fs)
        atoms.get_forces()
        t0 = time.perf_counter()
        dyn.run(2)                           # warm-up; also sizes the timed run
        n = max(int(steps), int(np.ceil(float(min_seconds) / ((time.perf_counter() - t0) / 2))))
        t0 = time.perf_counter()
        dyn.run(n)
        seconds = time.perf_counter() - t0
        hwm = re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)
        print("RESULT " + json.dumps({"s_per_step": seconds / n, "steps": n,
                                      "worker_vmhwm_mib": int(hwm) / 1024,
                                      "policy": atoms.calc.low_memory_policy}))
        return
    raise SystemExit(f"unknown peer mode {mode}")


# ---- run under ionmd's venv -------------------------------------------------------------------

def run_measured(cmd: list[str], env: dict, cwd: Path | None = None) -> tuple[str, float]:
    """Run ``cmd``; its output and the peak resident memory (MiB) of its process tree.

    Through /usr/bin/time, a small process: a child forked from this Python process would
    start its high-water mark at this process's size (ru_maxrss survives fork and exec)."""
    with tempfile.NamedTemporaryFile("r", suffix=".maxrss") as peak:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *cmd], check=False,
                              cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                               f"{proc.stdout[-3000:]}")
        return proc.stdout, float(peak.read().split()[-1]) / 1024    # %M is in KiB


def lammps(model: Path, atoms, workdir: Path, body: str, env: dict) -> tuple[str, float]:
    from ase.io import write

    write(workdir / "bench.data", atoms, format="lammps-data", specorder=["Li", "Cl"],
          masses=True)
    (workdir / "in.bench").write_text(f"units metal\natom_style atomic\nread_data bench.data\n"
                                      f"pair_style ionmd {model}\npair_coeff * * Li Cl\n{body}")
    lmp = str(Path(sys.executable).parent / "lmp")
    return run_measured([lmp, "-in", "in.bench", "-log", "log.bench"], env, workdir)


def time_ionmd(model: Path, atoms, workdir: Path, steps: int, env: dict) -> dict:
    out, peak = lammps(model, atoms, workdir, f"""velocity all create 300 1 mom yes
timestep 0.001
fix 1 all nve
thermo {steps}
run 1
run {steps}
""", env)
    loop = float(re.findall(r"Loop time of ([0-9.eE+-]+) on", out)[-1])
    pair = float(re.findall(r"^Pair\s+\|\s+([0-9.eE+-]+)", out, flags=re.MULTILINE)[-1])
    own = re.findall(r"peak memory per rank \(max over ranks\): host ([0-9.]+) MiB", out)
    return {"s_per_step": loop / steps, "pair_s_per_step": pair / steps, "steps": steps,
            "peak_mib": peak, "worker_vmhwm_mib": float(own[-1]) if own else float("nan")}


def ionmd_energy_forces(model: Path, atoms, workdir: Path, env: dict):
    import numpy as np

    out, _ = lammps(model, atoms, workdir, """compute pe all pe
variable e equal c_pe
run 0
print "ENERGY ${e}"
write_dump all custom forces.dump id fx fy fz modify sort id format float %.10g
""", env)
    energy = float(re.findall(r"^ENERGY (\S+)", out, flags=re.MULTILINE)[-1])
    forces = np.loadtxt(workdir / "forces.dump", skiprows=9)[:, 1:]
    return np.concatenate([[energy], forces.ravel()])


def prepare(args, peer_py: str, env: dict) -> tuple[Path, Path, dict]:
    """The model file, its Symmetrix JSON and ionmd exports (reused when present)."""
    work = args.export_dir
    model = work / "mace_mp0a_medium_random.model"
    model_json = model.with_suffix(".json")
    if not model.exists():
        subprocess.run([peer_py, SELF, "_peer", "build", str(model)], env=env, check=True)
    if not model_json.exists():
        extract = str(Path(peer_py).parent / "symmetrix_extract_mace")
        subprocess.run([extract, "--model", str(model), "--output", str(model_json)], env=env,
                       check=True, stdout=subprocess.DEVNULL)
    exports = {}
    for fmt in args.formats:
        # "unfused": TorchScript with mace-torch's own e3nn convolutions and einsum products
        name = {"aoti": "mace_ionmd_f32.pt2", "unfused": "mace_ionmd_f32_unfused.pt"}
        exports[fmt] = work / name.get(fmt, "mace_ionmd_f32.pt")
        if not exports[fmt].exists():
            from ionmd.export import export_mace

            t0 = time.perf_counter()
            export_mace(model, exports[fmt], dtype="float32", fused=fmt != "unfused",
                        format="aoti" if fmt == "aoti" else "torchscript")
            print(f"exported {exports[fmt].name} in {time.perf_counter() - t0:.0f} s", flush=True)
    return model, model_json, exports


def check_same_model(model, model_json, exports, peer_py, env, workdir) -> dict:
    """Energy and forces on a 64-atom cell, each side vs MACE's calculator (float64)."""
    import numpy as np
    from bench_sevennet import licl

    t0 = time.perf_counter()   # also compiles Symmetrix's float32 artifact the first time
    subprocess.run([peer_py, SELF, "_peer", "check", str(model), str(model_json),
                    str(workdir / "check.npz")], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ref = dict(np.load(workdir / "check.npz"))
    ref.update({f"ionmd_{fmt}_f32": ionmd_energy_forces(path, licl(CHECK_CELL), workdir, env)
                for fmt, path in exports.items()})
    mace = ref.pop("mace_f64")
    check = {"atoms": len(licl(CHECK_CELL)), "mace_f64_energy": float(mace[0])}
    print(f"\nsame-model check, {check['atoms']}-atom LiCl, vs MACECalculator float64 "
          f"(E = {mace[0]:.6f} eV) [{time.perf_counter() - t0:.0f} s]:")
    for name, val in ref.items():
        check[name] = {"energy": float(val[0]), "dE": float(val[0] - mace[0]),
                       "max_dF": float(np.abs(val[1:] - mace[1:]).max())}
        print(f"  {name:18s} E {val[0]:.6f}  dE {val[0] - mace[0]:+.2e} eV  "
              f"max|dF| {check[name]['max_dF']:.1e} eV/A")
    return check


def versions(peer_py: str, env: dict) -> dict:
    code = ("import json\nfrom importlib.metadata import version as v\nprint(json.dumps({p: v(p) "
            "for p in ('symmetrix-xl','symmetrix-xl-cpu-avx512','mace-torch','e3nn','torch','ase',"
            "'numpy')}))")
    peer = json.loads(subprocess.run([peer_py, "-c", code], env=env, capture_output=True,
                                     text=True, check=True).stdout)
    from importlib.metadata import version

    return {"peer": peer, "ionmd_venv": {p: version(p) for p in ("torch", "e3nn", "lammps", "ase")}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # the whole docstring: what it needs
    ap.add_argument("--export-dir", type=Path, default=None)
    ap.add_argument("--sizes", nargs="+", default=["2x2x3", "5x5x5"])
    ap.add_argument("--formats", nargs="+", default=["torchscript", "aoti"],
                    choices=["torchscript", "unfused", "aoti"],
                    help="ionmd exports: TorchScript with fused ops (the default export), "
                         "TorchScript without them (--no-fused), AOTInductor")
    ap.add_argument("--profiles", nargs="+", default=["capacity", "speed"],
                    choices=["capacity", "speed"], help="Symmetrix execution_profile "
                    "(capacity is the calculator's default)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--min-seconds", type=float, default=5.0,
                    help="shortest timed Symmetrix run (its steps are much shorter)")
    ap.add_argument("--peer-venv", type=Path, default=ROOT / ".peers" / "symmetrix-venv")
    ap.add_argument("-o", "--output", type=Path, default=Path("bench_mace_peer.json"))
    ap.add_argument("--overwrite", action="store_true",
                    help="replace an earlier run's OUTPUT file")
    args = ap.parse_args(argv)
    if args.output.exists() and not args.overwrite:
        raise SystemExit(f"{args.output} holds an earlier run's results: give another -o FILE, "
                         "or --overwrite to replace them")
    from bench_sevennet import licl

    peer_py = str(args.peer_venv / "bin" / "python")
    if not Path(peer_py).exists():
        raise SystemExit(f"no {peer_py}: run examples/peers/symmetrix_setup.sh first")
    args.export_dir = (args.export_dir or Path(tempfile.mkdtemp(prefix="mace-peer-"))).resolve()
    args.export_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="mace-peer-run-"))
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1",
               SYMMETRIX_JIT_CACHE=str(args.export_dir / "symmetrix-jit"))
    model, model_json, exports = prepare(args, peer_py, env)
    record = {"model": str(model), "threads": args.threads, "repeats": args.repeats,
              "versions": versions(peer_py, env), "load_before": os.getloadavg(),
              "check": check_same_model(model, model_json, exports, peer_py, env, workdir)}

    variants = [f"ionmd-{f}" for f in args.formats] + [f"symmetrix-{p}" for p in args.profiles]
    rows = []
    for size in args.sizes:
        n = len(licl(tuple(int(x) for x in size.split("x"))))
        steps = max(3, round(1500 / n))
        runs: dict[str, list] = {v: [] for v in variants}
        for r in range(args.repeats):
            for v in variants:               # interleaved: drift hits every variant alike
                kind, opt = v.split("-", 1)
                if kind == "ionmd":
                    res = time_ionmd(exports[opt], licl(tuple(int(x) for x in size.split("x"))),
                                     workdir, steps, env)
                else:
                    out, peak = run_measured([peer_py, SELF, "_peer", "time", str(model_json),
                                              size, opt, str(steps), str(args.min_seconds)], env)
                    res = json.loads(out.split("RESULT ", 1)[1].splitlines()[0])
                    res["peak_mib"] = peak
                res["load1"] = os.getloadavg()[0]    # this machine is shared
                res["finished"] = time.strftime("%H:%M:%S")
                runs[v].append(res)
                print(f"{size} {n:5d} atoms  {v:21s} repeat {r}: {n / res['s_per_step']:8.1f} "
                      f"atom-steps/s  peak {res['peak_mib']:6.0f} MiB", flush=True)
        best = {}
        for v, rs in runs.items():           # fastest run; the largest peak of all repeats
            fast = min(rs, key=lambda x: x["s_per_step"])
            peak = max(x["peak_mib"] for x in rs)
            best[v] = {"rate": n / fast["s_per_step"], "peak_mib": peak,
                       "mb_per_atom": peak * 1.048576 / n,
                       "worker_vmhwm_mib": max(x["worker_vmhwm_mib"] for x in rs), "runs": rs}
            if "pair_s_per_step" in fast:
                best[v]["pair_rate"] = n / min(x["pair_s_per_step"] for x in rs)
        rows.append({"size": size, "atoms": n, "variants": best})
    record["load_after"] = os.getloadavg()
    record["rows"] = rows

    print(f"\nMACE MP-0a medium layout (random weights), float32, LiCl, {args.threads} threads, "
          f"best of {args.repeats}; load avg before {record['load_before'][0]:.1f}, after "
          f"{record['load_after'][0]:.1f}")
    print(f"{'size':>6} {'atoms':>5} {'variant':>21} {'atom-steps/s':>12} {'pair-only':>9} "
          f"{'peak MiB':>8} {'MB/atom':>8} {'worker MiB':>10}")
    for row in rows:
        for v, res in row["variants"].items():
            pair = f"{res['pair_rate']:9.1f}" if "pair_rate" in res else " " * 9
            print(f"{row['size']:>6} {row['atoms']:5d} {v:>21} {res['rate']:12.1f} {pair} "
                  f"{res['peak_mib']:8.0f} {res['mb_per_atom']:8.3f} "
                  f"{res['worker_vmhwm_mib']:10.0f}")
    print(f"\n{'size':>6} {'atoms':>5} {'ionmd':>17} {'symmetrix':>18} {'ionmd':>7} {'symm':>7} "
          f"{'speed':>6} {'ionmd':>7} {'symm':>7} {'memory':>6}\n{'':>49}{'atom-steps/s':>15} "
          f"{'ratio':>6} {'MB/atom':>15} {'ratio':>6}")
    for row in rows:
        for a in (v for v in variants if v.startswith("ionmd")):
            for b in (v for v in variants if v.startswith("symmetrix")):
                x, y = row["variants"][a], row["variants"][b]
                print(f"{row['size']:>6} {row['atoms']:5d} {a:>17} {b:>18} {x['rate']:7.1f} "
                      f"{y['rate']:7.1f} {x['rate'] / y['rate']:6.3f} {x['mb_per_atom']:7.2f} "
                      f"{y['mb_per_atom']:7.2f} {x['mb_per_atom'] / y['mb_per_atom']:6.2f}")
    print("speed ratio: ionmd / Symmetrix (>1: ionmd faster); memory ratio: ionmd / Symmetrix "
          "(>1: ionmd uses more)")
    args.output.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["_peer"]:
        peer_main(*sys.argv[2:])
    else:
        sys.exit(main())
