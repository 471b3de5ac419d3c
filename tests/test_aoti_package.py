"""AOTInductor packages (.pt2) in pair_style ionmd: the same assembly as TorchScript,
checked against LAMMPS's own `pair_style morse` (analytic reference), on 1 and 2 ranks,
for a cell of one atom (which the runtime pads to the package's minimum graph size),
and the errors for truncated packages and unknown format versions."""

import numpy as np
import pytest
from ase import Atoms

from contract_models import RC, lammps_morse
from lammps_runner import run_lmp, single_point, write_data
from structures import licl_supercell, triclinic_distorted

from ionmd.export import read_metadata



def one_atom_cell():
    """A single Li in a 3.1 A cube: one node, all its neighbours are its own images."""
    return Atoms("Li", positions=[[0.2, 0.3, 0.1]], cell=np.diag([3.1, 3.3, 3.5]), pbc=True)


@pytest.mark.parametrize("make,nprocs", [(licl_supercell, 1), (triclinic_distorted, 1),
                                         (triclinic_distorted, 2), (one_atom_cell, 1)],
                         ids=["licl", "triclinic", "triclinic_np2", "one_atom"])
def test_package_matches_lammps_morse(make, nprocs, morse_pt2, tmp_path):
    atoms = make()
    ref = lammps_morse(atoms, tmp_path / "ref")
    got = single_point(atoms, morse_pt2, tmp_path / "ionmd", ["Cl", "Li"], nprocs=nprocs)
    assert got.energy == pytest.approx(ref.energy, rel=1e-12, abs=1e-10)
    np.testing.assert_allclose(got.forces, ref.forces, rtol=0, atol=1e-11)
    np.testing.assert_allclose(got.pressure, ref.pressure, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(got.atom_energy, ref.atom_energy, rtol=0, atol=1e-11)


def test_package_metadata_is_readable(morse_pt2):
    meta = read_metadata(morse_pt2)
    assert meta["file_format"] == "aoti"
    assert meta["elements"] == "Cl Li" and float(meta["cutoff"]) == RC


def run_bad(tmp_path, model):
    write_data(licl_supercell(rep=1), tmp_path / "struct.data", ["Cl", "Li"])
    script = (f"units metal\natom_style atomic\nread_data struct.data\n"
              f"pair_style ionmd {model}\npair_coeff * * Cl Li\nrun 0\n")
    proc = run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    return proc.stdout


def test_truncated_package(morse_pt2, tmp_path):
    data = morse_pt2.read_bytes()
    (tmp_path / "cut.pt2").write_bytes(data[: len(data) // 2])
    out = run_bad(tmp_path, "cut.pt2")
    assert "corrupted or truncated" in out and "ionmd export" in out


def with_format_version(package, path, version: int):
    """``package`` as a newer ionmd would write it: the ionmd metadata in the package's
    ``*_metadata.json`` entries (what the plugin reads) says ``format_version=version``;
    no second compilation (tens of seconds) for one line of metadata."""
    import json
    import zipfile

    with zipfile.ZipFile(package) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("_metadata.json"):
                meta = json.loads(data)
                lines = meta["ionmd_metadata"].splitlines()
                assert any(line.startswith("format_version=") for line in lines), lines
                meta["ionmd_metadata"] = "\n".join(
                    f"format_version={version}" if line.startswith("format_version=") else line
                    for line in lines) + "\n"
                data = json.dumps(meta).encode()
            zout.writestr(info, data)
    return path


def test_package_from_a_newer_format(morse_pt2, tmp_path):
    with_format_version(morse_pt2, tmp_path / "future.pt2", 99)
    assert read_metadata(tmp_path / "future.pt2")["format_version"] == "99"
    out = run_bad(tmp_path, "future.pt2")
    assert "format version 99" in out and "update ionmd" in out


def test_programs_with_the_same_code_keep_their_own_weights(tmp_path):
    """Two programs that differ only in their weights (as eSEN's blocks do) generate the
    same code; packaged together, each must still run with its own weights (inductor names
    generated files by a hash of the code, so a shared build directory mixed them up)."""
    import torch
    from torch._inductor.package import load_package

    from ionmd.export.aoti import compile_program, graph_dims, package_programs
    from ionmd.export.contract import ModelMetadata

    meta = ModelMetadata(family="test", cutoff=RC, num_layers=1, elements=["Cl", "Li"],
                         dtype="float64", source="test")
    gen = torch.Generator().manual_seed(0)
    layers = [torch.nn.Linear(4, 3, dtype=torch.float64) for _ in range(2)]
    with torch.no_grad():
        for layer in layers:
            layer.weight.copy_(torch.randn(3, 4, generator=gen, dtype=torch.float64))
    x = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    nodes, _ = graph_dims()
    programs = {f"p{i}": compile_program(layer, (x,), ({0: nodes},), meta, tmp_path / f"p{i}")
                for i, layer in enumerate(layers)}
    package_programs(tmp_path / "two.pt2", programs)
    y = torch.randn(7, 4, generator=gen, dtype=torch.float64)
    for i, layer in enumerate(layers):
        got = load_package(str(tmp_path / "two.pt2"), f"p{i}")(y)
        torch.testing.assert_close(got, layer(y).detach(), rtol=1e-12, atol=1e-12)
