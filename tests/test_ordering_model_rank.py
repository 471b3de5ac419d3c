"""``--order ewald --order-model-rank N``: the N lowest-Ewald arrangements, one per
symmetry class, re-ranked by the model's energy (a fixed-cell single point each).

References: pymatgen's ``EwaldSummation`` of every arrangement of the cell (the candidates
are the lowest, none lower missed, none equivalent to another by pymatgen's
``StructureMatcher``), and LAMMPS's own ``pair_style morse`` (the energy of each candidate
under the model's twin: the one kept is the lowest)."""

import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Structure

from contract_models import MorseEdgeModel, save_contract_model

FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
CELL = (1, 1, 2)            # 8 cation sites, 4 Mg: 70 arrangements
MORSE = dict(d0=0.3, alpha=1.5, r0=3.6, rc=6.0)     # prefers Mg near Mg: Ewald does not


def half_mg_rocksalt() -> Structure:
    """Rock salt with Mg on half the cation sites: arrangements differ in Ewald energy."""
    return Structure(Lattice.cubic(5.2), [{"Mg": 0.5}] * 4 + ["Cl"] * 4,
                     np.vstack([FCC, (FCC + 0.5) % 1]))


def ordered_cif(folder: Path) -> Path:
    """The lowest-Ewald arrangement of :func:`half_mg_rocksalt` in its 1x1x2 cell written as
    its own CIF (``folder/ordered.cif``): a file with nothing left to order."""
    from pymatgen.io.cif import CifWriter

    from ionmd.structures import OrderOptions, load_structure

    ordered = load_structure(half_mg_rocksalt(), OrderOptions("ewald", supercell="1x1x2")).structure
    path = folder / "ordered.cif"
    CifWriter(ordered).write_file(path)
    assert Structure.from_file(path).is_ordered
    return path


def every_arrangement(parent: Structure, species_on: dict, cell=CELL):
    """(Ewald energy, structure) of every arrangement of the partial sites of ``parent``
    repeated ``cell``: ``species_on`` maps the species placed (with its charge) to how many,
    the rest of those sites empty, other sites keep their element with ``charges``."""
    big = parent.make_supercell(cell, in_place=False)
    partial = [i for i, site in enumerate(big) if not site.is_ordered]
    (placed, n), = species_on.items()
    out = []
    for chosen in itertools.combinations(partial, n):
        keep = [i for i in range(len(big)) if i not in partial or i in chosen]
        species = [placed if i in partial else big[i].specie.symbol + "-" for i in keep]
        s = Structure(big.lattice, species, big.frac_coords[keep])
        out.append((EwaldSummation(s).total_energy, s))
    return out


def _matcher():
    # tight: the defaults (stol 0.3) matched Li3YCl6 arrangements of different Ewald energy
    return StructureMatcher(ltol=0.01, stol=0.01, angle_tol=0.5, primitive_cell=False,
                            scale=False, attempt_supercell=False)


def test_candidates_are_the_n_lowest_ewald_arrangements_one_per_symmetry_class():
    from ionmd.structures import order_structure

    n = 5
    cell = order_structure(half_mg_rocksalt(), "ewald", supercell=CELL, candidates=n)
    assert len(cell.candidates) == n
    assert [c.ewald_rank for c in cell.candidates] == list(range(1, n + 1))
    charged = [c.structure.copy() for c in cell.candidates]
    for s in charged:
        s.add_oxidation_state_by_element({"Mg": 2, "Cl": -1})
    energies = [EwaldSummation(s).total_energy for s in charged]
    assert energies == pytest.approx([c.ewald_energy for c in cell.candidates], abs=1e-6)
    assert np.all(np.diff(energies) > -1e-6)          # lowest first
    assert cell.candidates[0].ewald_energy == pytest.approx(cell.ewald_energy, abs=1e-9)
    matcher = _matcher()
    for a, b in itertools.combinations(charged, 2):     # one per symmetry class
        assert not matcher.fit(a, b)
    reference = every_arrangement(half_mg_rocksalt(), {"Mg2+": 4})
    assert min(e for e, _ in reference) == pytest.approx(energies[0], abs=1e-6)
    below = [s for e, s in reference if e < energies[-1] - 1e-6]
    assert len(below) > n          # the enumeration has equivalent copies: they are found
    for s in below:                # no arrangement below the last candidate was missed
        assert any(matcher.fit(s, c) for c in charged)


def test_equal_ewald_energies_are_told_apart_by_symmetry():
    """Every Cl/Br arrangement has the same Ewald energy (same charge): the candidates
    are still one per symmetry class, as many as pymatgen's StructureMatcher finds."""
    from ionmd.structures import order_structure

    parent = Structure(Lattice.cubic(5.4), ["Li"] * 4 + [{"Cl": 0.5, "Br": 0.5}] * 4,
                       np.vstack([FCC, (FCC + 0.5) % 1]))
    cell = order_structure(parent, "ewald", supercell=CELL, candidates=50)
    big = parent.make_supercell(CELL, in_place=False)
    anions = [i for i, site in enumerate(big) if not site.is_ordered]
    every = []
    for cl in itertools.combinations(anions, 4):
        species = ["Li" if i not in anions else ("Cl" if i in cl else "Br")
                   for i in range(len(big))]
        every.append(Structure(big.lattice, species, big.frac_coords))
    classes = _matcher().group_structures(every)
    assert np.ptp([c.ewald_energy for c in cell.candidates]) < 1e-6    # Ewald: all alike
    assert len(cell.candidates) == len(classes) < len(every)


@pytest.fixture(scope="module")
def mg_morse(tmp_path_factory) -> Path:
    return save_contract_model(MorseEdgeModel(**MORSE), tmp_path_factory.mktemp("mgm") / "mg.pt",
                               cutoff=MORSE["rc"], elements=["Mg", "Cl"])


def _lammps_energy(structure: Structure, workdir: Path) -> float:
    from pymatgen.io.ase import AseAtomsAdaptor

    from lammps_runner import single_point

    atoms = AseAtomsAdaptor.get_atoms(structure.copy().remove_oxidation_states())
    return single_point(atoms, None, workdir, ["Mg", "Cl"], pair_lines=(
        f"pair_style morse {MORSE['rc']}\npair_coeff * * {MORSE['d0']} {MORSE['alpha']} "
        f"{MORSE['r0']}\npair_modify shift yes")).energy


def test_model_rank_keeps_the_lowest_model_energy(mg_morse, tmp_path):
    from ionmd.screen.ordering_rank import rank_by_model
    from ionmd.structures import OrderOptions, load_structure

    n = 3
    loaded = load_structure(half_mg_rocksalt(), OrderOptions("ewald", supercell="1x1x2",
                                                             candidates=n))
    plain = load_structure(half_mg_rocksalt(), OrderOptions("ewald", supercell="1x1x2"))
    assert loaded.structure == plain.structure        # ordering alone: the Ewald choice
    ranked, ranking = rank_by_model(loaded, mg_morse, n, device="cpu")
    reference = [_lammps_energy(c.structure, tmp_path / f"c{k}")
                 for k, c in enumerate(loaded.candidates)]
    assert ranking.model_energies == pytest.approx(reference, abs=1e-8)
    best = int(np.argmin(reference))
    assert best != 0                   # the model disagrees with Ewald here
    assert ranking.chosen_rank == best + 1
    assert ranked.structure == loaded.candidates[best].structure
    spread = (max(reference) - min(reference)) / len(ranked.structure) * 1000
    assert ranking.spread_meV_per_atom == pytest.approx(spread, rel=1e-9)
    assert f"kept Ewald rank {best + 1}" in ranked.ordering
    assert ranked.ordering.startswith(loaded.ordering)


def _cif(tmp_path: Path) -> Path:
    from pymatgen.io.cif import CifWriter

    path = tmp_path / "mgcl.cif"
    CifWriter(half_mg_rocksalt()).write_file(path)
    return path


def test_run_records_the_ranking(mg_morse, tmp_path, capsys):
    from ionmd.cli import main

    path = _cif(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["run", "conductivity", str(path), "--model", str(mg_morse), "--dry-run",
                     "--supercell", "1x1x2", "--order", "ewald", "--order-model-rank", "4",
                     "--set", "mobile_species=Mg", "-o", str(tmp_path / "runs")])
    text = capsys.readouterr()
    assert code in (0, None), text
    # in the protocol's folder, with the runs that start from its cell
    record = json.loads((tmp_path / "runs" / "mgcl" / "mg" / "conductivity"
                         / "ordering_rank.json").read_text())
    assert [p.relative_to(tmp_path) for p in (tmp_path / "runs").rglob("ordering_rank.json")] \
        == [Path("runs/mgcl/mg/conductivity/ordering_rank.json")]
    assert record["candidates_asked"] == 4 and len(record["candidates"]) == 4
    energies = [c["model_energy_eV"] for c in record["candidates"]]
    assert record["chosen_ewald_rank"] == int(np.argmin(energies)) + 1 != 1
    ewald = [c["ewald_energy_eV"] for c in record["candidates"]]
    assert ewald == sorted(ewald)
    runs = sorted((tmp_path / "runs").rglob("run.json"))
    assert runs
    for run in runs:
        notes = json.loads(run.read_text())["structure_notes"]
        assert any(f"kept Ewald rank {record['chosen_ewald_rank']}" in n for n in notes), notes


def test_a_refused_run_leaves_no_ranking_file(mg_morse, tmp_path, capsys):
    """The ranking is written beside the runs once they are accepted, not before a
    refusal (here: Li, the default mobile ion, is not in MgCl2)."""
    from ionmd.cli import main

    code = main(["run", "conductivity", str(_cif(tmp_path)), "--model", str(mg_morse),
                 "--dry-run", "--supercell", "1x1x2", "--order", "ewald",
                 "--order-model-rank", "3", "-o", str(tmp_path / "runs")])
    text = capsys.readouterr().err
    assert code == 1 and "mobile_species" in text, text
    assert not list((tmp_path / "runs").rglob("ordering_rank.json"))


def test_model_rank_needs_the_ewald_ordering(mg_morse, tmp_path, capsys):
    from ionmd.cli import main

    code = main(["run", "conductivity", str(_cif(tmp_path)), "--model", str(mg_morse),
                 "--dry-run", "--order", "random", "--order-model-rank", "3",
                 "-o", str(tmp_path / "runs")])
    text = capsys.readouterr().err
    assert code == 1 and "--order ewald" in text and "Traceback" not in text, text
    assert not (tmp_path / "runs").exists()


def test_mirror_images_are_one_candidate():
    """Li3YCl6 (one cell at --order-tol 0.1, 360 arrangements): its two lowest-Ewald
    arrangements are mirror images, one arrangement physically (a model that is not parity
    invariant gives them energies 3e-4 eV apart): no two candidates are equivalent under
    any operation pymatgen's StructureMatcher finds, mirrors included."""
    from ionmd.structures import OrderOptions, example_path, load_structure

    loaded = load_structure(example_path("Li3YCl6.cif"),
                            OrderOptions("ewald", occ_tol=0.1, candidates=8))
    matcher = _matcher()
    structures = [c.structure for c in loaded.candidates]
    assert len(structures) == 8
    for a, b in itertools.combinations(structures, 2):
        assert not matcher.fit(a, b)
