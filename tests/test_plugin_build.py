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
    assert "pair style plugin mlip" in proc.stdout


@pytest.mark.slow
def test_plugin_for_another_lammps_version_refuses(tmp_path):
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja",
                    f"-DPython3_EXECUTABLE={sys.executable}", "-DLAMMPS_NUM_VER=20200101"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
    proc = run_lmp(f"plugin load {build / 'ionmdplugin.so'}\n", tmp_path, check=False)
    assert "was built for LAMMPS version 20200101 but is loaded into version" in proc.stdout
    assert "not registering pair_style mlip" in proc.stdout
