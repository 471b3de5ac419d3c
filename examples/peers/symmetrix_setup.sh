#!/usr/bin/env bash
# Peer venv for examples/bench_mace_peer.py: Symmetrix-XL's CPU calculator (PyPI symmetrix-xl +
# symmetrix-xl-cpu-avx512, MIT) with the converter's dependencies (CPU torch, mace-torch and
# the e3nn 0.4.4 mace-torch pins). Kept apart from ionmd's .venv, which runs e3nn 0.6.
#
# usage: examples/peers/symmetrix_setup.sh        (venv at $SYMMETRIX_VENV, default .peers/symmetrix-venv)
# Idempotent: an existing venv is reused and pip leaves satisfied pins alone.
# e3nn 0.4.4 under torch >= 2.6 imports only with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (its constants.pt);
# bench_mace_peer.py sets it. Symmetrix-XL's JSON calculator itself needs no torch.
set -euo pipefail
case "${1:-}" in    # the header above is the help; the script takes no arguments
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "symmetrix_setup.sh: takes no arguments (got '$1'); set SYMMETRIX_VENV to choose the venv (--help)" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${SYMMETRIX_VENV:-$ROOT/.peers/symmetrix-venv}"
PYTHON="${PYTHON:-python3.11}"         # the wheels are cp310..cp314
SYMMETRIX_VERSION="${SYMMETRIX_VERSION:-0.1.1}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"   # the CPU torch ionmd's .venv runs
MACE_VERSION="${MACE_VERSION:-0.3.16}"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
"${PIP[@]}" --upgrade pip
"${PIP[@]}" "torch==$TORCH_VERSION" --index-url https://download.pytorch.org/whl/cpu
"${PIP[@]}" "symmetrix-xl[mace]==$SYMMETRIX_VERSION" "symmetrix-xl-cpu-avx512==$SYMMETRIX_VERSION" \
    "mace-torch==$MACE_VERSION" "e3nn==0.4.4" "torch==$TORCH_VERSION"
"$VENV/bin/symmetrix" backend list || true
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
print(" ".join(f"{p}=={version(p)}" for p in
               ("symmetrix-xl", "symmetrix-xl-cpu-avx512", "mace-torch", "e3nn", "torch", "ase", "numpy")))
PY
echo "peer venv: $VENV"
