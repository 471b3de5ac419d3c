"""`pair_style ionmd` with non-periodic boundaries, as users studying surfaces, interfaces and
clusters write them: ``boundary p p f`` / ``p p s`` slabs (vacuum thinner than the cutoff,
so any image across z would show; an xy-tilted cell), ``s s s`` / ``f f f`` clusters with an
atom that has no neighbours, on one rank and on two (halo exchange, redundant shell, a rank
that holds only vacuum), an NVE run whose atoms push a shrink-wrapped boundary out and cross
into the empty rank, and the memory guard's estimate for a shrink-wrapped monolayer.

References: the family's own ASE calculator with the matching ``atoms.pbc`` (energy,
forces, per-atom energies) and the strain derivative of its energy (the virial, which LAMMPS
reports as pressure x box volume; MACE's calculator divides by a volume of its own along
non-periodic axes, docs/model-contract.md); ASE's neighbour list for the edge count.
eSEN: the package the other eSEN tests share (compiled once a session), in the slow test at
the end."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from ase.build import bulk
from ase.neighborlist import neighbor_list

from lammps_boundaries import (licl_cluster_with_lone_atom, licl_monolayer, licl_slab,
                               run_boundaries, strain_virial)
from lammps_runner import run_lmp, thermo_table, write_data

pytestmark = pytest.mark.mpi

ELEMENTS = ["Cl", "Li"]
RTOL = 1e-9     # float64 throughout


@pytest.fixture(scope="module")
def sevennet(tiny_checkpoint, tiny_f64):
    from sevennet_reference import reference_calculator

    return tiny_f64, reference_calculator(str(tiny_checkpoint), "float64")


@pytest.fixture(scope="module")
def mace(tiny_mace_file, tiny_mace_f64):
    from mace_reference import mace_calculator

    return tiny_mace_f64, mace_calculator(tiny_mace_file)


# the structures of the cases, each run under several boundaries and layouts ('p p f' and
# 'p p s' are both pbc (T, T, F) for the calculator): its reference values are computed once
STRUCTURES = {
    "slab": lambda: licl_slab(2.0),
    "slab_in_30A_box": lambda: licl_slab(1.0, height=30.0),    # upper half of the box empty
    "tilted_slab": lambda: licl_slab(3.0, tilt=2.3),
    "cluster": licl_cluster_with_lone_atom,
}

# (structure, boundary, ranks, pair_style keywords, processors or comm_style tiled): on two
# ranks 'ghost auto' is the halo exchange (the exports have stages); 'processors 1 1 2' cuts
# the slab in z
TILED = "comm_style tiled\nbalance 1.0 rcb"
CASES = {
    "slab_ppf_1": ("slab", "p p f", 1, "", None),
    "slab_pps_halo": ("slab", "p p s", 2, "", "1 1 2"),
    "slab_ppf_tiled_halo": ("slab", "p p f", 2, "", TILED),
    # the upper rank of a 30 A box holds only vacuum
    "slab_ppf_empty_rank_halo": ("slab_in_30A_box", "p p f", 2, "", "1 1 2"),
    "tilted_slab_ppf_redundant": ("tilted_slab", "p p f", 2, "ghost redundant", "1 1 2"),
    "cluster_fff_1": ("cluster", "f f f", 1, "", None),
    "cluster_sss_halo_low": ("cluster", "s s s", 2, "memory low chunk 8", "2 1 1"),
    "cluster_fff_redundant": ("cluster", "f f f", 2, "ghost redundant", "2 1 1"),
}


def run_case(case, model, workdir):
    structure, boundary, nprocs, extra, layout = CASES[case]
    tiled = layout == TILED
    atoms = STRUCTURES[structure]()
    run = run_boundaries(atoms, model, workdir, ELEMENTS, boundary=boundary, nprocs=nprocs,
                         pair_extra=extra, processors=None if tiled else layout,
                         setup_lines=layout if tiled else "")
    if nprocs > 1 and "redundant" not in extra:
        assert "halo exchange between 2 stages" in run["log"]
    return atoms, run


def calculator_values(atoms, calc, *, atom_energies=True) -> dict:
    """The calculator's energy, forces, per-atom energies and strain virial of ``atoms``."""
    ref = atoms.copy()
    ref.calc = calc
    values = {"positions": atoms.positions.copy(), "energy": ref.get_potential_energy(),
              "forces": ref.get_forces(), "virial": strain_virial(atoms, calc)}
    if atom_energies:
        values["atom_energy"] = ref.get_potential_energies()
    return values


@pytest.fixture(scope="module")
def reference_values():
    """(family, structure) -> :func:`calculator_values`, made at the first case that needs
    them: the structures are seeded, the same atoms in every case."""
    return {}


def case_reference(reference_values, family, case, atoms, calc, *, atom_energies=True):
    key = (family, CASES[case][0])
    if key not in reference_values:
        reference_values[key] = calculator_values(atoms, calc, atom_energies=atom_energies)
    values = reference_values[key]
    assert np.array_equal(values["positions"], atoms.positions)
    return values


def assert_matches_calculator(run, values):
    energy = values["energy"]
    assert abs(run["energy"] - energy) <= RTOL * abs(energy)
    forces = values["forces"]
    assert np.abs(forces).max() > 0.1          # not a comparison of zeros
    assert np.abs(run["forces"] - forces).max() <= RTOL * np.abs(forces).max()
    if "atom_energy" in values:
        ea = values["atom_energy"]
        assert np.abs(run["atom_energy"] - ea).max() <= RTOL * np.abs(ea).max()
    virial = values["virial"]
    assert np.abs(run["virial"] - virial).max() <= 1e-6 * np.abs(virial).max()


@pytest.mark.parametrize("family", ["sevennet", "mace"])
@pytest.mark.parametrize("case", list(CASES))
def test_nonperiodic_run_matches_calculator(case, family, request, reference_values, tmp_path):
    """Energy, forces, per-atom energies and virial of each case equal the calculator's with
    the same pbc; the slab's 2 A of vacuum is less than the 4-5 A cutoff, so one image
    across z changes the energy."""
    model, calc = request.getfixturevalue(family)
    atoms, run = run_case(case, model, tmp_path)
    values = case_reference(reference_values, family, case, atoms, calc)
    assert_matches_calculator(run, values)
    z = atoms.positions[:, 2]
    if atoms.pbc[0] and atoms.cell[2, 2] - np.ptp(z) < 4.0:
        # vacuum thinner than the cutoff: periodic in z would be another system
        if "periodic_energy" not in values:
            periodic = atoms.copy()
            periodic.pbc = True
            periodic.calc = calc
            values["periodic_energy"] = periodic.get_potential_energy()
        assert abs(values["periodic_energy"] - run["energy"]) > 1e-3


def final_frame(workdir, natoms):
    rows = (workdir / "traj.dump").read_text().splitlines()[-natoms:]
    data = np.array([[float(v) for v in row.split()] for row in rows])
    return data[:, 1:4], data[:, 4:7]


@pytest.mark.parametrize("boundary", ["p p s", "p p f"])
def test_nve_across_the_boundary_and_into_an_empty_rank(boundary, sevennet, tmp_path):
    """NVE, 40 fs: a Li atom leaves a slab at 250 A/ps (10 A), pushing a shrink-wrapped box
    out or crossing a fixed 30 A box into the upper rank of 'processors 1 1 2', which held
    no atom before. Two ranks with the halo exchange (and the redundant shell) follow
    the one-rank trajectory, and the last frame's forces and energy are the calculator's
    at its positions."""
    model, calc = sevennet
    atoms = licl_slab(1.0, height=30.0)
    flyer = int(np.argmax(atoms.positions[:, 2])) + 1
    write_data(atoms, tmp_path / "struct.data", ELEMENTS)
    positions = {}
    runs = [(1, ""), (2, "")] + ([(2, "ghost redundant")] if boundary == "p p f" else [])
    for nprocs, extra in runs:
        wd = tmp_path / f"np{nprocs}{extra.replace(' ', '_')}"
        wd.mkdir()
        (wd / "struct.data").write_bytes((tmp_path / "struct.data").read_bytes())
        proc = run_lmp(f"""units metal
atom_style atomic
boundary {boundary}
{'processors 1 1 2' if nprocs > 1 else ''}
read_data struct.data
pair_style ionmd {model} {extra}
pair_coeff * * {' '.join(ELEMENTS)}
group fly id {flyer}
velocity all create 300 5 dist gaussian
velocity fly set NULL NULL 250.0
fix nve all nve
timestep 0.001
thermo_style custom step pe etotal lz
thermo_modify format float %.15g
thermo 40
dump d all custom 40 traj.dump id x y z fx fy fz
dump_modify d sort id format float %.17g
run 40
print "END $(lx:%.17g) $(ly:%.17g) $(lz:%.17g) $(pe:%.17g)" file end.txt
""", wd, nprocs=nprocs)
        lx, ly, lz, pe = [float(v) for v in (wd / "end.txt").read_text().split()[1:]]
        pos, forces = final_frame(wd, len(atoms))
        assert pos[flyer - 1, 2] > 15.0            # in the upper half, where no atom was
        if boundary == "p p s":
            assert lz > thermo_table(proc.stdout, 4)[0, 3] + 5.0    # the box grew
        positions[(nprocs, extra)] = pos
        assert np.abs(pos - positions[(1, "")]).max() <= 1e-10
        last = atoms.copy()
        last.positions = pos
        last.set_cell(np.diag([lx, ly, lz]))
        last.calc = calc
        assert abs(pe - last.get_potential_energy()) <= RTOL * abs(pe)
        assert np.abs(forces - last.get_forces()).max() <= RTOL * np.abs(forces).max()


def estimated_edges(log):
    return float(re.search(r"memory check: .* and ~([0-9]+) edges", log).group(1))


def test_memory_estimate_of_a_shrink_wrapped_monolayer(sevennet, tmp_path):
    """A flat layer under 'boundary p p s' has a box 0.06 A thick: the memory guard took
    the mean density of that box for the whole cutoff sphere and expected 14,612 edges for
    36 atoms with 288 (SevenNet-0, 1600 atoms, 'memory fast': 1,268,389 edges, ~158 GiB,
    refused, for 12,954). The estimate now counts the layer's neighbours; 'max_memory 0.5'
    makes the guard measure and log it."""
    model, calc = sevennet
    atoms = licl_monolayer()
    true_edges = len(neighbor_list("i", atoms, 4.0))
    run = run_boundaries(atoms, model, tmp_path, ELEMENTS, boundary="p p s",
                         pair_extra="max_memory 0.5")
    assert run["volume"] < 0.1 * atoms.cell.area(2)     # LAMMPS did shrink-wrap it
    assert 0.5 * true_edges <= estimated_edges(run["log"]) <= 2.0 * true_edges
    assert_matches_calculator(run, calculator_values(atoms, calc))


def rocksalt_block(reps, periodic: str, vacuum: float = 0.0):
    """Rattled rock-salt LiCl, ``reps`` conventional cells, periodic along the axes marked
    ``p`` in ``periodic`` (e.g. ``"f f p"``) with ``vacuum`` Angstrom of box added along the
    others, the atoms in its middle."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * reps
    atoms.rattle(0.05, seed=1)
    cell = atoms.cell.array.copy()
    pbc = [axis == "p" for axis in periodic.split()]
    for d in range(3):
        if not pbc[d]:
            atoms.positions[:, d] += 0.5 * vacuum
            cell[d, d] += vacuum
    atoms.set_cell(cell, scale_atoms=False)
    atoms.pbc = pbc
    return atoms


@pytest.mark.parametrize("reps,boundary,vacuum", [
    ((3, 3, 2), "p p f", 30.0),     # a slab in a fixed box: was 0.25 x the edges
    ((2, 2, 4), "s s p", 8.0),      # a shrink-wrapped wire: was 1.33 x
    ((2, 2, 4), "f f p", 20.0),     # the wire in a fixed box: was 0.12 x
    ((3, 3, 3), "s s s", 8.0),      # a shrink-wrapped cluster: was 1.36 x
    ((3, 3, 3), "f f f", 20.0),     # the cluster in a fixed box: was 0.09 x
])
def test_memory_estimate_of_slabs_wires_and_clusters(sevennet, tmp_path, reps, boundary, vacuum):
    """The memory guard's estimate at start counts the atoms' neighbours where they are:
    within the span of their coordinates along non-periodic axes (a fixed box's vacuum
    holds none), with the cutoff sphere clipped by every non-periodic face at once. The
    reference is ASE's neighbour list; the uniform-density estimate sees 0.88 x the edges
    of the same crystal in bulk (rock salt's 18 neighbours within 4 A vs 15.8)."""
    model, _ = sevennet
    atoms = rocksalt_block(reps, boundary, vacuum)
    true_edges = len(neighbor_list("i", atoms, 4.0))
    run = run_boundaries(atoms, model, tmp_path, ELEMENTS, boundary=boundary,
                         pair_extra="max_memory 0.5")
    assert 0.75 * true_edges <= estimated_edges(run["log"]) <= 1.1 * true_edges


def test_memory_estimate_of_a_tilted_slab_with_an_empty_rank(sevennet, tmp_path):
    """The estimate's atom span goes through x2lamda and its reach per Angstrom through
    h_inv in a triclinic box, and its MPI_Allreduce is called on every rank: here a slab
    tilted 4 A in xy, in the upper half of 30 A of fixed vacuum on 'processors 1 1 2', so
    the lower rank holds no atom (a rank skipping the reduction would hang the run)."""
    model, _ = sevennet
    atoms = rocksalt_block((3, 3, 2), "p p f", 30.0)
    cell = atoms.cell.array.copy()
    cell[1, 0] = 4.0
    atoms.positions[:, 0] += atoms.positions[:, 1] / cell[1, 1] * 4.0
    atoms.positions[:, 2] += 12.0          # the slab spans z 27-37.3 of 40.3 A
    atoms.set_cell(cell, scale_atoms=False)
    true_edges = len(neighbor_list("i", atoms, 4.0))
    run = run_boundaries(atoms, model, tmp_path, ELEMENTS, boundary="p p f", nprocs=2,
                         processors="1 1 2", pair_extra="max_memory 0.5")
    assert "triclinic box" in run["log"]
    assert f"rank 1 would hold ~{len(atoms)} local" in run["log"]      # rank 0: none
    assert 0.75 * true_edges <= estimated_edges(run["log"]) <= 1.1 * true_edges


# ------------------------------------------------------------------------------- eSEN

@pytest.fixture(scope="module")
def esen(tiny_esen_l1_f64):
    from tiny_esen import fairchem_float64_calculator

    logging.getLogger().setLevel(logging.ERROR)   # fairchem's dataset_list warning
    checkpoint, package = tiny_esen_l1_f64        # the package the other eSEN tests use
    return package, fairchem_float64_calculator(checkpoint)


@pytest.mark.slow
def test_esen_package_without_periodicity(esen, reference_values, tmp_path):
    """The eSEN package (whole model on one rank, compiled stages with the halo exchange and
    recomputed in chunks on two, one rank holding only vacuum or only the lone atom) against
    fairchem's calculator with the same pbc; fairchem reports no per-atom energies."""
    model, calc = esen
    for case in CASES:
        atoms, run = run_case(case, model, tmp_path / case)
        assert_matches_calculator(run, case_reference(reference_values, "esen", case, atoms,
                                                      calc, atom_energies=False))
        assert abs(run["atom_energy"].sum() - run["energy"]) <= RTOL * abs(run["energy"])
