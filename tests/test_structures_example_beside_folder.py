"""A shipped example's bare name reads the shipped file from any folder, also one that
holds a folder of that name (audit A25): `ionmd run ev-scan Li3YCl6 -o .` writes
./Li3YCl6/, and the same command again was refused with "'Li3YCl6' is a directory: give
the structure files in it", though README.md says the bare name reads the shipped file
from any folder (and a campaign's structures = ["Li3YCl6"] did). The reference is
pymatgen's own reading of the shipped CIF."""

import subprocess
import sys
import warnings

import pytest
from pymatgen.core import Structure

from ionmd.structures import StructureError, example_path, read_structure, read_structures


def _shipped(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_file(str(example_path(name)))


def test_bare_name_beside_a_folder_of_that_name(tmp_path, monkeypatch):
    (tmp_path / "Li3YCl6" / "sevennet0" / "ev-scan").mkdir(parents=True)   # a run's layout
    monkeypatch.chdir(tmp_path)
    got = read_structure("Li3YCl6")
    reference = _shipped("Li3YCl6")
    assert got.composition.almost_equals(reference.composition, rtol=0, atol=1e-9)
    assert got.lattice.abc == pytest.approx(reference.lattice.abc)
    assert [n for n, _ in read_structures("Li3YCl6")] == ["Li3YCl6"]


def test_a_folder_that_is_no_example_is_still_refused(tmp_path, monkeypatch):
    (tmp_path / "mycifs").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StructureError, match=r"'mycifs' is a directory: give the structure"):
        read_structure("mycifs")


def test_ionmd_run_dry_run_twice_in_its_output_folder(tmp_path, sevennet0_f32):
    """The CLI as a user types it: the second dry run reads the shipped file again."""
    cmd = [sys.executable, "-m", "ionmd.cli", "run", "ev-scan", "Li3YCl6", "--model",
           str(sevennet0_f32), "--order", "random", "--order-seed", "0", "--order-tol", "0.15",
           "--dry-run", "-o", "."]
    for _ in range(2):
        out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert (tmp_path / "Li3YCl6").is_dir()
