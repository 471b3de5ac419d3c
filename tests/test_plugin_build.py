"""The plugin is found without `plugin load`, and a plugin built for another LAMMPS
version refuses to register (C++ class layouts differ between LAMMPS versions)."""

import subprocess
import sys
from pathlib import Path

import pytest

from lammps_runner import run_lmp

ROOT = Path(__file__).resolve().parents[1]


def test_lmp_finds_plugin_through_entry_point(tmp_path):
    proc = run_lmp("plugin list\n", tmp_path)
    assert "pair style plugin ionmd" in proc.stdout
    # `mlip` is the MLIP/MTP interface's pair style: ionmd must not register that name
    assert "plugin mlip" not in proc.stdout


def test_the_sources_never_say_pair_style_mlip():
    """The style was renamed from `mlip` (taken by MLIP/MTP's PairMLIP, same class name and
    include guard) to `ionmd`; no alias: the old name is the collision."""
    found = subprocess.run(["git", "grep", "-n", "-i", "-E", r"pair_style +mlip|PairMLIP|pair_mlip",
                            "--", ".", ":!tests/test_plugin_build.py"],
                           cwd=ROOT, capture_output=True, text=True)
    if found.returncode not in (0, 1):
        pytest.skip(f"not a git checkout: {found.stderr.strip()}")
    assert found.stdout == ""


@pytest.mark.slow
def test_plugin_for_another_lammps_version_refuses(tmp_path):
    build = tmp_path / "build"
    # unoptimised, plugin only: what is checked is the version gate at load (half the time)
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja",
                    f"-DPython3_EXECUTABLE={sys.executable}", "-DLAMMPS_NUM_VER=20200101",
                    "-DCMAKE_BUILD_TYPE=None", "-DCMAKE_CXX_FLAGS=-O0"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "ionmdplugin"], check=True,
                   capture_output=True)
    proc = run_lmp(f"plugin load {build / 'ionmdplugin.so'}\n", tmp_path, check=False)
    assert "was built for LAMMPS version 20200101 but is loaded into version" in proc.stdout
    assert "not registering pair_style ionmd" in proc.stdout
