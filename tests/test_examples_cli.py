"""The example scripts as a new user meets them: `--help` says what each needs, and a run
that cannot work stops at once with a message naming what is missing (no traceback).

Each case is one short subprocess; nothing here exports a model or starts LAMMPS.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# no GPU in any case: the CUDA refusal is then tested on every machine alike
ENV = dict(os.environ, CUDA_VISIBLE_DEVICES="")


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=120)


def script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, str(EXAMPLES / name), *args], cwd)


# script -> phrases its --help must contain: what it measures and what it needs
HELP = {
    "gpu_check.py": ["CUDA build of torch", "--models", "--device"],
    "check_mace_e3nn.py": ["e3nn 0.4.4", "--other-python /tmp/e3nn044/bin/python"],
    "bench_mace_peer.py": ["Symmetrix", "symmetrix_setup.sh", "--peer-venv"],
    "bench_sevennet.py": ["atom-steps/s", "e3gnn_build.sh BUILD"],
    "bench_formats.py": ["AOTInductor", "--export-dir"],
    "bench_memory.py": ["memory", "bench_memory.json"],
    "bench_screen.py": ["SevenNetCalculator", "--sample"],
    "screen_ranking.py": ["fast", "--model", "--only"],
}


@pytest.mark.parametrize("name", sorted(HELP))
def test_help_says_what_the_script_needs(name, tmp_path):
    done = script(name, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for phrase in HELP[name]:
        assert phrase in done.stdout, f"{name} --help lacks {phrase!r}"


# (script, arguments, phrase the refusal must contain); FILE is an existing empty file,
# EMPTY an existing empty folder
REFUSALS = [
    ("gpu_check.py", [], "--models DIR is required"),
    ("gpu_check.py", ["--models", "EMPTY"], "holds no *.pt or *.pt2 model file"),
    ("gpu_check.py", ["--models", "MODELS"], "sees no CUDA GPU"),
    # docs/gpu.md's memory step: an empty folder is fine when only self-exporting steps run
    ("gpu_check.py", ["--models", "EMPTY", "--skip", "models", "halo", "kernels", "esen", "aoti",
                      "nve", "throughput"], "sees no CUDA GPU"),
    ("check_mace_e3nn.py", [], "--other-python PYTHON is required"),
    ("check_mace_e3nn.py", ["--other-python", "nowhere/python"], "no such interpreter"),
    ("bench_memory.py", ["--model", "missing.pt"], "ionmd export sevennet"),
    ("bench_screen.py", ["--model", "missing.pt"], "ionmd export sevennet"),
    ("screen_ranking.py", ["--model", "missing.pt"], "ionmd export sevennet"),
    ("screen_ranking.py", ["--model", "FILE", "--only", "LiFx"], "not among the structures"),
    ("bench_sevennet.py", ["--e3gnn-build", "EMPTY"], "examples/peers/e3gnn_build.sh"),
    ("bench_sevennet.py", ["--sizes", "2x2"], "AxBxC"),
    ("bench_sevennet.py", ["--steps", "0"], "give at least 1"),
    ("bench_formats.py", ["--sizes", "5"], "AxBxC"),
    ("bench_mace_peer.py", ["--peer-venv", "EMPTY"], "symmetrix_setup.sh"),
    # an earlier run's results are kept unless --overwrite is given
    ("bench_mace_peer.py", ["-o", "OLD/bench_memory.json"], "--overwrite"),
    ("bench_memory.py", ["--model", "FILE", "-o", "OLD"], "--overwrite"),
]


@pytest.mark.parametrize("name,args,phrase", REFUSALS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(REFUSALS)])
def test_unusable_run_stops_with_a_clear_error(name, args, phrase, tmp_path):
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "FILE").touch()
    (tmp_path / "MODELS").mkdir()
    (tmp_path / "MODELS" / "sevennet0_f32.pt").touch()
    (tmp_path / "OLD").mkdir()
    (tmp_path / "OLD" / "bench_memory.json").write_text("{}")
    done = script(name, *args, cwd=tmp_path)
    assert done.returncode != 0
    assert phrase in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "gpu-check").exists()     # gpu_check wrote nothing before refusing
    assert (tmp_path / "OLD" / "bench_memory.json").read_text() == "{}"


@pytest.mark.parametrize("name", ["e3gnn_build.sh", "symmetrix_setup.sh"])
def test_peer_scripts_answer_help_and_refuse_options(name, tmp_path):
    sh = str(EXAMPLES / "peers" / name)
    done = run(["bash", sh, "--help"], tmp_path)
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr
    done = run(["bash", sh, "-x"], tmp_path)
    assert done.returncode == 2 and "--help" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []             # no folder named -x, no venv started
