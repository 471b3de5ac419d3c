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


# ---- inputs a new user writes (found by a new-user audit, 2026-12-05)

def _energy(tmp_path, name, body, nprocs=1):
    """``run 0`` of the LiCl cell with ``body`` (pair commands, ...); the potential energy."""
    from lammps_runner import thermo_table

    workdir = tmp_path / name
    workdir.mkdir()
    write_data(licl_supercell(rep=1), workdir / "struct.data", ["Cl", "Li"])
    proc = run_lmp(f"units metal\natom_style atomic\nread_data struct.data\n{body}\n"
                   "thermo_style custom step pe\nrun 0\n", workdir, nprocs=nprocs)
    return float(thermo_table(proc.stdout, 2)[-1, 1])


def test_pair_style_given_again_means_only_what_it_says(tmp_path, morse):
    """LAMMPS keeps the object of a pair style given again: the earlier line's keywords
    (here a memory budget too small to run) must not carry over."""
    plain = _energy(tmp_path, "plain", f"pair_style ionmd {morse}\npair_coeff * * Cl Li")
    again = _energy(tmp_path, "again", f"pair_style ionmd {morse} max_memory 0.000001\n"
                    f"pair_coeff * * Cl Li\npair_style ionmd {morse}")
    assert again == plain


def test_another_model_with_other_elements_asks_for_pair_coeff_again(tmp_path, morse):
    """The atom types were mapped to the first model's species numbers; a second model
    with its elements in another order must not inherit that mapping silently."""
    swapped = save_contract_model(MorseEdgeModel(0.35, 1.4, 2.9, 5.0), tmp_path / "lic.pt",
                                  cutoff=5.0, elements=["Li", "Cl"])
    out = run_bad(tmp_path, f"pair_style ionmd {morse}\npair_coeff * * Cl Li\n"
                  f"pair_style ionmd {swapped}")
    assert "has other elements than the previous model" in out
    assert "All pair coeffs are not set" in out


def _bonded_data(path):
    """The LiCl cell as atom_style bond, atoms 1 and 2 bonded."""
    from ase.io import write

    write(path, licl_supercell(rep=1), format="lammps-data", specorder=["Cl", "Li"],
          masses=True, atom_style="atomic")
    lines, out, section = path.read_text().splitlines(), [], None
    for line in lines:
        if line.strip().endswith("atom types"):
            out += [line, "1 bonds", "1 bond types"]
            continue
        if line.startswith("Atoms"):
            section = "atoms"
            out.append("Atoms # bond")
            continue
        words = line.split()
        if section == "atoms" and len(words) == 5:
            line = " ".join([words[0], "1", *words[1:]])
        out.append(line)
    path.write_text("\n".join(out + ["", "Bonds", "", "1 1 1 2", ""]))


def test_bonded_neighbours_left_out_by_special_bonds_are_refused(tmp_path, morse):
    """A data file with bonds and LAMMPS's default special_bonds (0 0 0) drops bonded
    pairs from the neighbour list: refused with the fix; with the fix the energy is that
    of the same cell without bonds."""
    common = ("units metal\natom_style bond\nbond_style zero\nread_data struct.data\n"
              "bond_coeff *\n")
    _bonded_data(tmp_path / "struct.data")
    proc = run_lmp(common + f"pair_style ionmd {morse}\npair_coeff * * Cl Li\nrun 0\n",
                   tmp_path, check=False)
    assert proc.returncode != 0
    assert "add 'special_bonds lj/coul 1.0 1.0 1.0'" in proc.stdout
    from lammps_runner import thermo_table

    fixed = run_lmp(common + "special_bonds lj/coul 1.0 1.0 1.0\n"
                    f"pair_style ionmd {morse}\npair_coeff * * Cl Li\n"
                    "thermo_style custom step pe\nrun 0\n", tmp_path)
    bonded = float(thermo_table(fixed.stdout, 2)[-1, 1])
    assert bonded == pytest.approx(_energy(tmp_path, "atomic",
                                           f"pair_style ionmd {morse}\npair_coeff * * Cl Li"),
                                   rel=1e-12)


def test_null_outside_hybrid_says_what_null_is_for(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse}\npair_coeff * * Cl NULL")
    assert "NULL (atom type 2) leaves that type without a potential" in out
    assert "hybrid" in out


def test_model_file_in_pair_coeff_points_to_pair_style(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse}\npair_coeff * * {morse} Cl Li")
    assert "belongs in 'pair_style ionmd FILE'" in out


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:x", "cuda:1abc"])
def test_misspelt_device_is_named_as_such(tmp_path, morse, device):
    out = run_bad(tmp_path, f"pair_style ionmd {morse} device {device}\npair_coeff * * Cl Li")
    assert f"unknown device '{device}'" in out


def test_newton_off_with_a_ghost_graph_on_one_rank_names_the_request(tmp_path, morse):
    out = run_bad(tmp_path, f"newton off on\npair_style ionmd {morse} ghost redundant\n"
                  "pair_coeff * * Cl Li")
    assert "with a graph of ghost atoms" in out and "requires 'newton on'" in out
    assert "remove the 'newton off' line" in out and "drop that ghost/graph keyword" in out


# ---- found by an MPI audit (2026-12-05)

@pytest.mark.parametrize("exclude, named", [
    ("type 1 2", "'neigh_modify exclude type 1 2'"),
    ("group cl cl", "'neigh_modify exclude group cl cl'"),
])
def test_neighbour_exclusions_touching_model_atoms_are_refused(tmp_path, morse, exclude, named):
    """neigh_modify exclude takes pairs out of the model's neighbour list too: the run went
    on with the energy of another material (Cl-Li pairs gone: a different energy on 1, 2
    and 4 ranks alike). Refused on every rank count, with the way to hold atoms still."""
    out = run_bad(tmp_path, f"group cl type 1\nneigh_modify exclude {exclude}\n"
                  f"pair_style ionmd {morse}\npair_coeff * * Cl Li", nprocs=2)
    assert f"needs every neighbour, but {named}" in out
    assert "neigh_modify exclude none" in out and "fix setforce" in out


def test_neighbour_exclusions_of_other_styles_atoms_are_allowed(tmp_path, morse):
    """Under hybrid/overlay an exclusion among the NULL type's atoms is no business of the
    model: same energy as without it."""
    pair = (f"pair_style hybrid/overlay ionmd {morse} zero 5.0\npair_coeff * * ionmd Cl NULL\n"
            "pair_coeff * * zero")
    plain = _energy(tmp_path, "plain", pair)
    excluded = _energy(tmp_path, "excluded", f"neigh_modify exclude type 2 2\n{pair}")
    assert excluded == plain


def test_memory_low_without_stages_warns_once_on_several_ranks(tmp_path, morse):
    """The warning that 'memory low' runs as 'memory fast' came once per rank (4 identical
    lines on 4 ranks); LAMMPS's warnings come from rank 0."""
    workdir = tmp_path / "w"
    workdir.mkdir()
    write_data(licl_supercell(rep=1), workdir / "struct.data", ["Cl", "Li"])
    proc = run_lmp("units metal\natom_style atomic\nread_data struct.data\n"
                   f"pair_style ionmd {morse} memory low\npair_coeff * * Cl Li\nrun 0\n",
                   workdir, nprocs=4)
    assert proc.stdout.count("runs as 'memory fast'") == 1


def test_neighbour_include_group_leaving_model_atoms_out_is_refused(tmp_path, morse):
    """neigh_modify include li gave the Cl atoms no neighbours: the run went on without
    their energies (the toy model's -210.69 eV became -140.79 eV). Refused, with the fix."""
    out = run_bad(tmp_path, f"group li type 2\natom_modify first li\nneigh_modify include li\n"
                  f"pair_style ionmd {morse}\npair_coeff * * Cl Li", nprocs=2)
    assert "needs every neighbour, but 'neigh_modify include li'" in out
    assert "'neigh_modify include all'" in out


def test_training_checkpoint_is_named_as_such(tmp_path):
    """A torch.save checkpoint (what a user has before `ionmd export`) was reported as a
    'corrupted' TorchScript file by torch's reader."""
    torch.save({"model_state_dict": {"w": torch.zeros(3)}, "config": {"cutoff": 5.0}},
               tmp_path / "checkpoint_best.pth")
    out = run_bad(tmp_path, "pair_style ionmd checkpoint_best.pth\npair_coeff * * Cl Li")
    assert "checkpoint_best.pth is a PyTorch checkpoint" in out
    assert "not an exported model; export it first: `ionmd export" in out
    assert "corrupted" not in out


def test_element_in_the_wrong_case_is_named(tmp_path, morse):
    out = run_bad(tmp_path, f"pair_style ionmd {morse}\npair_coeff * * cl Li")
    assert "element symbols are case-sensitive, write 'Cl'" in out


@pytest.mark.parametrize("style", ["multi", "multi/old"])
def test_redundant_shell_with_multi_neighbor_lists_says_why(tmp_path, morse, style):
    """LAMMPS has no ghost-atom neighbour list with multi binning; its own message
    ('Requested neighbor stencil method does not exist') did not say why or what to use."""
    out = run_bad(tmp_path, f"neighbor 2.0 {style}\npair_style ionmd {morse} ghost redundant\n"
                  "pair_coeff * * Cl Li")
    assert f"which LAMMPS does not build with 'neighbor 2 {style}'; use 'neighbor 2 bin'" in out


def test_bonded_neighbours_left_out_under_hybrid_are_refused(tmp_path, morse):
    """Under hybrid/overlay the special_bonds check did not apply: with the default weights
    (0 0 0) the bonded pair left the model's graph silently (audit, Morse model: -15.811
    instead of -15.853 eV). Refused; with global weights of 0.5 for the other style and the
    model's own set to 1 (pair_modify pair ionmd special: weights it cannot apply are refused,
    tests/test_pair_style_checks_hybrid_special.py) the model takes the pair at full weight
    (its energy is that of the same cell without bonds) while the other style weights it."""
    from lammps_runner import thermo_table

    _bonded_data(tmp_path / "struct.data")
    common = ("units metal\natom_style bond\nbond_style zero\nread_data struct.data\n"
              "bond_coeff *\n")
    hybrid = (f"pair_style hybrid/overlay ionmd {morse} morse 5.0\npair_coeff * * ionmd Cl Li\n"
              "pair_coeff * * morse 0.35 1.4 2.9\n")
    proc = run_lmp(common + hybrid + "run 0\n", tmp_path, check=False)
    assert proc.returncode != 0
    assert "special_bonds weights of 1-2 neighbours are 0" in proc.stdout
    assert "under pair_style hybrid" in proc.stdout
    weighted = run_lmp(common + "special_bonds lj/coul 0.5 0.5 0.5\n" + hybrid +
                       "pair_modify pair ionmd special lj 1.0 1.0 1.0\n"
                       "compute m all pair ionmd\nthermo_style custom step c_m\n"
                       "thermo_modify format float %.15g\nrun 0\n", tmp_path)
    model_part = float(thermo_table(weighted.stdout, 2)[-1, 1])
    atomic = tmp_path / "atomic"
    atomic.mkdir()
    write_data(licl_supercell(rep=1), atomic / "struct.data", ["Cl", "Li"])
    plain = run_lmp(f"units metal\natom_style atomic\nread_data struct.data\npair_style ionmd "
                    f"{morse}\npair_coeff * * Cl Li\nthermo_style custom step pe\n"
                    "thermo_modify format float %.15g\nrun 0\n", atomic)
    assert model_part == pytest.approx(float(thermo_table(plain.stdout, 2)[-1, 1]), rel=1e-12)
