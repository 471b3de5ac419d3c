"""Every bad input stops LAMMPS with a message that says what is wrong and how to fix it."""

import pytest
import torch

from contract_models import MorseEdgeModel, NonFiniteModel, save_contract_model
from lammps_runner import run_lmp, write_data
from structures import licl_supercell


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    return save_contract_model(MorseEdgeModel(0.35, 1.4, 2.9, 5.0),
                               tmp_path_factory.mktemp("m") / "morse.pt", cutoff=5.0,
                               elements=["Cl", "Li"])


def run_bad(tmp_path, pair_lines, units="metal", data=True, nprocs=1, extra=""):
    atoms = licl_supercell(rep=1)
    write_data(atoms, tmp_path / "struct.data", ["Cl", "Li"])
    script = f"units {units}\natom_style atomic\nread_data struct.data\n{pair_lines}\n{extra}\nrun 0\n"
    proc = run_lmp(script, tmp_path, nprocs=nprocs, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    return proc.stdout


def test_missing_model_file(tmp_path):
    out = run_bad(tmp_path, "pair_style ionmd nowhere.pt\npair_coeff * * Cl Li")
    assert "nowhere.pt does not exist" in out and "ionmd export" in out


def test_not_a_model_file(tmp_path):
    (tmp_path / "junk.pt").write_text("not a model")
    out = run_bad(tmp_path, "pair_style ionmd junk.pt\npair_coeff * * Cl Li")
    assert "not an ionmd model file" in out


def test_torchscript_without_ionmd_metadata(tmp_path):
    torch.jit.save(torch.jit.script(MorseEdgeModel(0.3, 1.0, 3.0, 5.0)), str(tmp_path / "raw.pt"))
    out = run_bad(tmp_path, "pair_style ionmd raw.pt\npair_coeff * * Cl Li")
    assert "carries no ionmd metadata" in out


def test_unknown_format_version(tmp_path):
    save_contract_model(MorseEdgeModel(0.3, 1.0, 3.0, 5.0), tmp_path / "future.pt", cutoff=5.0,
                        elements=["Cl", "Li"], format_version=99)
    out = run_bad(tmp_path, "pair_style ionmd future.pt\npair_coeff * * Cl Li")
    assert "format version 99" in out and "update ionmd" in out


def test_element_unknown_to_model(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse}\npair_coeff * * Cl Xe")
    assert "element 'Xe' (atom type 2) is not known" in out and "it knows: Cl Li" in out


def test_wrong_number_of_elements(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse}\npair_coeff * * Cl")
    assert "2 atom types but 1 elements given" in out


def test_units_other_than_metal(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse}\npair_coeff * * Cl Li", units="real")
    assert "requires 'units metal'" in out


def test_unknown_keyword(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse} colour blue\npair_coeff * * Cl Li")
    assert "unknown keyword 'colour'" in out


def test_owners_graph_refused_on_several_ranks(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse} graph owners\npair_coeff * * Cl Li", nprocs=2)
    assert "'graph owners' needs one MPI rank" in out


def test_non_finite_energy_stops_the_run(tmp_path):
    """The model turns NaN once atoms come closer than 1.9 A; a hot start makes them."""
    save_contract_model(NonFiniteModel(1.9), tmp_path / "nan.pt", cutoff=4.0,
                        elements=["Cl", "Li"])
    out = run_bad(tmp_path, "pair_style ionmd nan.pt\npair_coeff * * Cl Li",
                  extra="displace_atoms all random 0.9 0.9 0.9 5 units box\n"
                        "dump d all atom 1 traj.dump")
    assert "non-finite energy or force at step 0" in out


def test_unknown_ghost_mode(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse} ghost thick\npair_coeff * * Cl Li")
    assert "ghost must be auto, redundant or halo, not 'thick'" in out


def test_halo_with_graph_keyword(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse} graph owners ghost halo\npair_coeff * * Cl Li")
    assert "'ghost halo' cannot be combined with 'graph owners'" in out


def test_stages_without_widths(tmp_path):
    from contract_models import ToyMessagePassing

    bad = save_contract_model(ToyMessagePassing(3.6), tmp_path / "bad.pt", cutoff=3.6,
                              elements=["Cl", "Li"], num_layers=3, halo_stages=3)
    out = run_bad(tmp_path, f"pair_style ionmd {bad}\npair_coeff * * Cl Li")
    assert "halo_stages=3 needs halo_widths with one width per stage" in out


def test_stages_declared_but_missing(tmp_path, morse):
    bad = save_contract_model(MorseEdgeModel(0.3, 1.0, 3.0, 5.0), tmp_path / "nostages.pt",
                              cutoff=5.0, elements=["Cl", "Li"], halo_stages=1, halo_widths=4)
    out = run_bad(tmp_path, f"pair_style ionmd {bad}\npair_coeff * * Cl Li")
    assert "declares halo_stages=1 but has no halo_embed/halo_stage methods" in out
