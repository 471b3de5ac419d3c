"""Exporter: every SevenNet checkpoint shipped in the sevenn wheel, the CLI, metadata,
and clear errors. Physics of the exported files is checked against SevenNetCalculator."""

import subprocess
import sys

import numpy as np
import pytest

from ionmd.errors import ExportError, ModelFileError
from ionmd.export import export_sevennet, read_metadata
from lammps_runner import single_point
from sevennet_reference import reference_calculator
from structures import li2s_conventional


def test_metadata_of_sevennet0(sevennet0_f64):
    meta = read_metadata(sevennet0_f64)
    assert meta["format_version"] == "1"
    assert meta["family"] == "sevennet"
    assert float(meta["cutoff"]) == 5.0 and meta["num_layers"] == "5"
    assert meta["dtype"] == "float64"
    elements = meta["elements"].split()
    assert len(elements) == 89 and {"Li", "Y", "Cl", "P", "S"} <= set(elements)
    assert len(meta["source_sha256"]) == 64
    assert meta["torch_version"] and meta["exporter"].startswith("ionmd")


def test_cli_inspect_prints_metadata(sevennet0_f32):
    out = subprocess.run([sys.executable, "-m", "ionmd.cli", "inspect", str(sevennet0_f32)],
                         capture_output=True, text=True, check=True).stdout
    assert "family" in out and "sevennet" in out and "float32" in out


@pytest.mark.parametrize("model,modal", [("7net-l3i5", None), ("7net-mf-0", "PBE"),
                                         ("7net-mf-0", "R2SCAN")])
def test_other_wheel_checkpoints_match_calculator(model, modal, sevennet_wheel_exports,
                                                  tmp_path):
    """The CLI path (`ionmd export sevennet CHECKPOINT --modal ...`) on a 12-atom cell; the
    exports run beside the other tests (tests/session_exports.py)."""
    out = sevennet_wheel_exports[f"{model} {modal}" if modal else model]
    assert read_metadata(out)["modal"] == (modal or "")
    atoms = li2s_conventional()
    lmp = single_point(atoms, out, tmp_path / "run", ["Li", "S"])
    ref = atoms.copy()
    ref.calc = reference_calculator(model, "float32", modal)
    assert abs(lmp.energy - ref.get_potential_energy()) / len(atoms) <= 1e-5
    assert np.abs(lmp.forces - ref.get_forces()).max() <= 1e-4


def test_multifidelity_needs_modal(tmp_path):
    with pytest.raises(ExportError, match="multi-fidelity.*--modal.*PBE"):
        export_sevennet("7net-mf-0", tmp_path / "x.pt")


def test_unknown_model_name(tmp_path):
    with pytest.raises(ExportError, match="neither a file nor a SevenNet pretrained name"):
        export_sevennet("7net-nonsense", tmp_path / "x.pt")


def test_cli_reports_errors_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ionmd.cli", "export", "sevennet",
                           "7net-mf-0", "-o", str(tmp_path / "x.pt")], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "ionmd: error:" in proc.stderr and "Traceback" not in proc.stderr


def test_read_metadata_rejects_foreign_files(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ModelFileError, match="not an ionmd model file"):
        read_metadata(tmp_path / "junk.pt")
    with pytest.raises(ModelFileError, match="does not exist"):
        read_metadata(tmp_path / "missing.pt")


def test_cli_old_model_flag_still_works_with_a_note(tmp_path, capsys):
    """`export sevennet --model NAME` (before the checkpoint was an argument) still runs."""
    from ionmd.cli import main

    assert main(["export", "sevennet", "--model", "7net-nonsense", "-o", str(tmp_path / "x.pt")]) == 1
    err = capsys.readouterr().err
    assert "deprecated" in err and "ionmd export sevennet 7net-nonsense" in err
    assert "neither a file nor a SevenNet pretrained name" in err
    assert main(["export", "sevennet", "7net-0", "--model", "7net-0", "-o", str(tmp_path / "x.pt")]) == 1
    assert "not both" in capsys.readouterr().err
