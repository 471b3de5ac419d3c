"""AOTInductor packages of SevenNet with per-layer stages (`ionmd export sevennet
--format aoti`, stages on by default): a compiled forward and vector-Jacobian program per
stage, as eSEN packages have (MACE packages are written without them: torch 2.13
miscompiles their vector-Jacobian programs, see ionmd.export.mace). The reference is the
TorchScript export of the same file run with autograd (`memory fast`, one rank): the package's whole-model program, its stages
recomputed in chunks, and the halo exchange on 2 and 4 ranks all give its energies, forces,
pressure, per-atom energies and virials to 1e-12 in float64."""

import pytest

from lammps_runner import assert_same_physics, single_point
from structures import triclinic_distorted

ELEMENTS = ["Cl", "Li"]

# (ranks, pair_style keywords): the whole-model program; stages recomputed in chunks of
# ~200 edges; the halo exchange between stages; halo and whole stages on 4 ranks
MODES = [(1, "memory fast"), (1, "memory low chunk 200"), (2, "ghost halo"),
         (4, "ghost halo memory low chunk 0")]


@pytest.fixture(scope="module")
def sevennet_pt2(tiny_staged_f64_pt2):
    """conftest's package (compiled beside the tests before this file: ~140 s CPU)."""
    return tiny_staged_f64_pt2


@pytest.mark.mpi
def test_staged_package_equals_torchscript(sevennet_pt2, tiny_f64, tmp_path):
    from ionmd.export import read_metadata

    package, torchscript = sevennet_pt2, tiny_f64
    meta = read_metadata(package)
    stages = int(meta["halo_stages"])
    assert stages >= 2 and meta["stage_vjp_energies"] == "1"
    atoms = triclinic_distorted()
    ref = single_point(atoms, torchscript, tmp_path / "torchscript", ELEMENTS,
                       pair_extra="memory fast")
    for nprocs, extra in MODES:
        run = single_point(atoms, package, tmp_path / f"np{nprocs}_{extra.replace(' ', '_')}",
                           ELEMENTS, nprocs=nprocs, pair_extra=extra,
                           processors="4 1 1" if nprocs == 4 else None)
        if "halo" in extra:
            assert f"halo exchange between {stages} stages" in run.log
        if "low" in extra:
            assert "memory low: the backward pass recomputes" in run.log
        assert_same_physics(run, ref, 1e-12)

