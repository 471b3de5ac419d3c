"""MACE exports with cuEquivariance kernels (`ionmd export mace --kernels cueq`).

The convolution and symmetric contraction become cuEquivariance segmented polynomials
(ionmd.export.mace_cueq). On this CPU machine they run cuEquivariance's pure-torch
reference method (`naive`): the same polynomial, paths, layouts and indexing as its GPU
kernels, so these tests check that the polynomials compute mace-torch's function:
against e3nn's tensor product + scatter and mace-torch's SymmetricContraction directly
(values and gradients), and through `pair_style ionmd` against the e3nn export of the
same file (float64, 1e-12; 1 and 2 ranks, both memory modes). The GPU kernels are
checked by examples/gpu_check.py on a GPU."""

import copy

import numpy as np
import pytest
import torch

from lammps_runner import assert_same_physics, single_point
from structures import licl_supercell, triclinic_distorted
from tiny_mace import build_tiny_mace

from ionmd.errors import ExportError
from ionmd.export import export_mace, read_metadata
from ionmd.export.mace_cueq import CueConv, CueSymmetricContraction

pytest.importorskip("cuequivariance_torch")     # requirements.txt installs it

RTOL = 1e-12
ELEMENTS = ["Cl", "Li"]


def relative(a, b):
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max()) / float(b.abs().max())


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("layer", [0, 1])
def test_convolution_equals_e3nn(layer, dtype, rtol):
    """Both interaction layers (0e features; 0e + 1o features x lmax-3 harmonics): the
    message and its gradients, with a node that only sends and one that is isolated."""
    tp = copy.deepcopy(build_tiny_mace(channels=8, correlation=1).interactions[layer].conv_tp)
    tp = tp.to(dtype)
    conv = CueConv(tp, "naive").to(dtype)
    gen = torch.Generator().manual_seed(layer)
    n, e = 9, 50
    x = torch.randn(n, tp.irreps_in1.dim, dtype=dtype, generator=gen, requires_grad=True)
    y = torch.randn(e, tp.irreps_in2.dim, dtype=dtype, generator=gen, requires_grad=True)
    w = torch.randn(e, tp.weight_numel, dtype=dtype, generator=gen, requires_grad=True)
    # receivers 0 .. n-3, senders 0 .. n-2: node n-2 only sends, node n-1 is isolated
    edge_index = torch.stack([torch.randint(0, n - 1, (e,), generator=gen),
                              torch.randint(0, n - 2, (e,), generator=gen)])
    probe = torch.randn(n, tp.irreps_out.dim, dtype=dtype, generator=gen)
    results = []
    for fn in (lambda: conv(x, y, w, edge_index),
               lambda: torch.zeros(n, tp.irreps_out.dim, dtype=dtype).index_add(
                   0, edge_index[1], tp(x[edge_index[0]], y, w))):
        out = fn()
        results.append([out, *torch.autograd.grad((out * probe).sum(), (x, y, w))])
    (got, *got_grads), (ref, *ref_grads) = results
    assert got[-2:].abs().max() == 0        # no message into nodes that receive nothing
    for a, b in zip([got, *got_grads], [ref, *ref_grads]):
        assert relative(a, b) <= rtol


@pytest.mark.parametrize("correlation", [1, 2, 3])
def test_symmetric_contraction_equals_mace(correlation):
    """mace-torch's SymmetricContraction (both products of a model) on nodes of every
    element in any order; node attributes that are not one-hot run mace-torch's code."""
    model = build_tiny_mace(channels=8, correlation=correlation).double()
    for product in model.products:
        sc = product.symmetric_contractions
        cue = CueSymmetricContraction(copy.deepcopy(sc), "naive")
        elements = cue.W.shape[0]
        gen = torch.Generator().manual_seed(correlation)
        n = 3 * elements + 1
        x = torch.randn(n, cue.W.shape[2], cue.num_components, dtype=torch.float64,
                        generator=gen, requires_grad=True)
        y = torch.nn.functional.one_hot(torch.randperm(n, generator=gen) % elements,
                                        elements).double()
        outs = [m(x, y) for m in (cue, sc)]
        probe = torch.randn(outs[1].shape, dtype=torch.float64, generator=gen)
        grads = [torch.autograd.grad((o * probe).sum(), x)[0] for o in outs]
        assert relative(outs[0], outs[1]) <= 1e-12
        assert relative(grads[0], grads[1]) <= 1e-12
        y_mixed = y.clone()
        y_mixed[0] = 0.5
        assert torch.equal(cue(x, y_mixed), sc(x, y_mixed))


@pytest.fixture(scope="module")
def cueq_export(tmp_path_factory, tiny_mace_file):
    out = tmp_path_factory.mktemp("cueq") / "tiny_mace_cueq_f64.pt"
    return export_mace(tiny_mace_file, out, dtype="float64", kernels="cueq",
                       kernel_method="naive")


def test_export_records_the_kernels(cueq_export, tiny_mace_f64):
    meta = read_metadata(cueq_export)
    assert meta["kernels"] == "cueq" and meta["kernel_method"] == "naive"
    assert meta["fused_ops"] == ("cuEquivariance (naive): 2 of 2 convolutions, 2 of 2 "
                                 "products; 2 of 2 self-connections fused")
    assert meta["halo_stages"] == "2"
    assert "memory_auto_edges" not in meta       # the fused CPU ops' switch is not theirs
    assert read_metadata(tiny_mace_f64)["kernels"] == "e3nn"


CELLS = {"ortho": lambda: licl_supercell(2, rattle=0.08, seed=2),
         "triclinic": triclinic_distorted}


@pytest.fixture(scope="module")
def e3nn_run(tiny_mace_f64, tmp_path_factory):
    """The default export's serial run of a cell, made once per cell: the reference of
    every cuEquivariance run on it."""
    runs = {}

    def run(cell):
        if cell not in runs:
            runs[cell] = single_point(CELLS[cell](), tiny_mace_f64,
                                      tmp_path_factory.mktemp(f"e3nn_{cell}"), ELEMENTS)
        return runs[cell]
    return run


@pytest.mark.mpi
@pytest.mark.parametrize("cell,nprocs,pair_extra", [
    ("ortho", 1, "memory fast"),
    ("triclinic", 1, "memory low chunk 200"),
    ("triclinic", 2, "ghost halo")])
def test_pair_style_cueq_equals_e3nn(cueq_export, e3nn_run, cell, nprocs, pair_extra,
                                     tmp_path):
    """Energies, forces, pressure and per-atom virials of the cuEquivariance export equal
    the default export's on one rank (fast and chunked) and with the halo exchange."""
    atoms = CELLS[cell]()
    ref = e3nn_run(cell)
    run = single_point(atoms, cueq_export, tmp_path / "cueq", ELEMENTS, nprocs=nprocs,
                       pair_extra=pair_extra)
    assert "equivariant kernels cueq (naive)" in run.log
    assert_same_physics(run, ref, RTOL)
    assert np.abs(run.forces).max() > 0.1       # a real force field, not zeros


def test_export_refuses_what_it_cannot_build(tiny_mace_file, tmp_path):
    with pytest.raises(ExportError, match="unknown kernels"):
        export_mace(tiny_mace_file, tmp_path / "x.pt", kernels="flash")
    with pytest.raises(ExportError, match=r"ionmd\[cuda\]"):    # no GPU operators here
        export_mace(tiny_mace_file, tmp_path / "x.pt", kernels="cueq", kernel_method="uniform_1d")
    with pytest.raises(ExportError, match="uniform_1d"):
        export_mace(tiny_mace_file, tmp_path / "x.pt", kernels="cueq", kernel_method="fused_tp")
    with pytest.raises(ExportError, match="TorchScript only"):
        export_mace(tiny_mace_file, tmp_path / "x.pt2", kernels="cueq", format="aoti")
    assert not list(tmp_path.iterdir())
