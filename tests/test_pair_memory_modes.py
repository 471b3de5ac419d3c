"""`pair_style ionmd ... memory low`: staged models keep no autograd graph in the forward
pass and recompute one stage at a time in the backward pass, on one rank (a graph of local
atoms, no exchange) and with the halo exchange on several. Same physics as `memory fast`:
energies, forces, pressure, per-atom energies and virials in float64 to 1e-12 relative (also
with each stage run in chunks of receivers, `chunk EDGES`), for
a toy staged model (unequal widths, readout in every stage), SevenNet and MACE, orthogonal
and triclinic."""

import pytest

from contract_models import save_toy_models
from lammps_runner import assert_same_physics, single_point
from structures import licl_supercell, triclinic_distorted

ELEMENTS = ["Cl", "Li"]
RTOL = 1e-12
CELLS = {"ortho": lambda: licl_supercell(2, rattle=0.08, seed=2),
         "triclinic": triclinic_distorted}


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    plain, staged = save_toy_models(tmp_path_factory.mktemp("toy"))
    return {"plain": plain, "staged": staged}


def assert_same(run, ref, rtol=RTOL):
    assert_same_physics(run, ref, rtol)


# whole stages, and stages in chunks of local receivers with about 200 edges each (the
# 64-atom cells have ~1700 edges per rank: several chunks, uneven at the end)
LOW = ["memory low chunk 0", "memory low chunk 200"]


@pytest.mark.mpi
@pytest.mark.parametrize("low_mode", LOW)
@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("nprocs", [1, 2, 4])
def test_toy_low_equals_fast(toy, cell, nprocs, low_mode, tmp_path):
    atoms = CELLS[cell]()
    fast = single_point(atoms, toy["staged"], tmp_path / "fast", ELEMENTS, nprocs=nprocs,
                        pair_extra="memory fast")
    low = single_point(atoms, toy["staged"], tmp_path / "low", ELEMENTS, nprocs=nprocs,
                       pair_extra=low_mode)
    assert "memory low: the backward pass recomputes one of the 3 stages" in low.log
    assert ("chunks of 200 edges" in low.log) == ("chunk 200" in low_mode)
    assert "memory low" not in fast.log and "recomputed" not in fast.log
    assert_same(low, fast)
    # and the plain (stage-less) file on one rank: the contract's own reference
    plain = single_point(atoms, toy["plain"], tmp_path / "plain", ELEMENTS)
    assert_same(low, plain, rtol=1e-10)


@pytest.mark.parametrize("low_mode", LOW)
@pytest.mark.parametrize("family", ["sevennet", "mace"])
def test_real_families_low_equals_fast(family, low_mode, tiny_f64, tiny_mace_f64, tmp_path):
    model = tiny_f64 if family == "sevennet" else tiny_mace_f64
    atoms = triclinic_distorted()
    fast = single_point(atoms, model, tmp_path / "fast", ELEMENTS, pair_extra="memory fast")
    low = single_point(atoms, model, tmp_path / "low", ELEMENTS, pair_extra=low_mode)
    assert "memory low" in low.log
    assert_same(low, fast)


def test_low_without_stages_says_so(toy, tmp_path):
    atoms = CELLS["ortho"]()
    run = single_point(atoms, toy["plain"], tmp_path / "plain", ELEMENTS, pair_extra="memory low")
    assert "'memory low' needs a model file with per-layer stages" in run.log


def test_bad_memory_value(toy, tmp_path):
    from lammps_runner import run_lmp

    proc = run_lmp(f"units metal\nregion b block 0 5 0 5 0 5\ncreate_box 2 b\n"
                   f"pair_style ionmd {toy['staged']} memory tiny\n", tmp_path, check=False)
    assert "memory must be auto, fast or low, not 'tiny'" in proc.stdout


def test_auto_recomputes_large_graphs_only(tiny_f64, tmp_path):
    """memory auto (the default): a graph above 32768 edges is recomputed in chunks (and
    says so), a smaller one runs as fast; both agree with memory fast."""
    from structures import licl_supercell

    small = licl_supercell(2, rattle=0.05, seed=3)       # 64 atoms, a few thousand edges
    run = single_point(small, tiny_f64, tmp_path / "small", ELEMENTS)
    assert "memory auto" not in run.log
    big = licl_supercell(8, rattle=0.05, seed=3)          # 4096 atoms, > 32768 edges
    auto = single_point(big, tiny_f64, tmp_path / "auto", ELEMENTS)
    assert "memory auto:" in auto.log and "chunks of 4096 edges" in auto.log
    fast = single_point(big, tiny_f64, tmp_path / "fast", ELEMENTS, pair_extra="memory fast")
    assert_same(auto, fast)


def test_auto_switch_follows_model_metadata(tmp_path):
    """`memory auto` switches above the file's memory_auto_edges (fused MACE exports raise
    it); a bad value is an error that names the key."""
    from contract_models import save_toy_staged

    atoms = CELLS["ortho"]()          # ~1700 edges on one rank
    low = save_toy_staged(tmp_path / "low.pt", memory_auto_edges=500)
    run = single_point(atoms, low, tmp_path / "auto", ELEMENTS)
    assert "memory auto:" in run.log and "edges > 500 on this rank" in run.log
    fast = single_point(atoms, low, tmp_path / "fast", ELEMENTS, pair_extra="memory fast")
    assert_same(run, fast)
    bad = save_toy_staged(tmp_path / "bad.pt", memory_auto_edges="lots")
    with pytest.raises(Exception, match="memory_auto_edges must be a positive number"):
        single_point(atoms, bad, tmp_path / "bad", ELEMENTS)
