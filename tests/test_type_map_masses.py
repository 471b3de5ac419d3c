"""A type map that contradicts the data file's masses (types swapped: ``1=Li,2=Cl`` for a
file whose type 1 weighs 35.45 amu, as ASE's ``lammps-data`` writer orders Cl before Li)
was taken over the masses silently: each species' atoms analysed as the other's (a hand
LAMMPS run of Li in a Cl lattice reported 'FAILED (framework_melting)' at 0.32 ps, the Li
being taken for the framework). Now refused, naming each type's mass and the map the
masses say. Isotopes (D, 6Li) name no other element and stay accepted. Reference: the
data file's own Masses, written by ASE from its atomic masses."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from ionmd.analysis import read_lammps_trajectory
from ionmd.errors import AnalysisError

L = 8.0


def _run(folder, symbols, masses=None):
    """A data file written by ASE (types in ``specorder``, Masses from ASE or ``masses``)
    and a two-frame dump of the same atoms."""
    pos = (np.indices((2, 2, 1)).reshape(3, -1).T + 0.25) * np.array([L / 2, L / 2, L])
    atoms = Atoms(symbols, positions=pos, cell=[L, L, L], pbc=True)
    if masses is not None:
        atoms.set_masses(masses)
    order = sorted(set(symbols), key=symbols.index)
    write(folder / "md.data", atoms, format="lammps-data", specorder=order, masses=True)
    types = [order.index(s) + 1 for s in symbols]
    with open(folder / "md.dump", "w") as f:
        for step, shift in ((0, 0.0), (10, 0.1)):
            f.write(f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{len(pos)}\n"
                    f"ITEM: BOX BOUNDS pp pp pp\n0 {L}\n0 {L}\n0 {L}\nITEM: ATOMS id type x y z\n")
            f.writelines(f"{i + 1} {t} {x + shift} {y} {z}\n" for i, (t, (x, y, z))
                         in enumerate(zip(types, pos)))
    return folder / "md.data", folder / "md.dump"


def test_a_type_map_that_swaps_the_masses_elements_is_refused(tmp_path):
    data, dump = _run(tmp_path, ["Cl", "Li", "Cl", "Li"])         # type 1 = Cl (35.45)
    right = read_lammps_trajectory(data, dump, timestep_fs=1.0, type_map={1: "Cl", 2: "Li"})
    assert right.elements.tolist() == ["Cl", "Li", "Cl", "Li"]
    by_masses = read_lammps_trajectory(data, dump, timestep_fs=1.0)
    assert by_masses.elements.tolist() == right.elements.tolist()
    with pytest.raises(AnalysisError, match=r"type 1 weighs 35\.450 amu there, Cl's mass, but "
                                            r"the type map names it Li.*masses say 1=Cl,2=Li"):
        read_lammps_trajectory(data, dump, timestep_fs=1.0, type_map={1: "Li", 2: "Cl"})


def test_isotopes_keep_their_map(tmp_path):
    data, dump = _run(tmp_path, ["H", "Li", "H", "Li"], masses=[2.014, 6.015, 2.014, 6.015])
    traj = read_lammps_trajectory(data, dump, timestep_fs=1.0, type_map={1: "H", 2: "Li"})
    assert traj.elements.tolist() == ["H", "Li", "H", "Li"]
    np.testing.assert_allclose(traj.masses, [2.014, 6.015, 2.014, 6.015], rtol=1e-6)


def test_a_scaled_mass_of_an_element_the_map_does_not_name_keeps_the_map(tmp_path):
    """H at 4.0 amu (repartitioned for a longer time step) weighs He's mass; He is no type
    of the map, so the map stands and the run's masses are kept (it was refused as He).
    Li at Cl's mass, Cl being the map's other type, is still refused."""
    (tmp_path / "h").mkdir(), (tmp_path / "cl").mkdir()
    data, dump = _run(tmp_path / "h", ["H", "Li", "H", "Li"], masses=[4.0, 6.94, 4.0, 6.94])
    traj = read_lammps_trajectory(data, dump, timestep_fs=1.0, type_map={1: "H", 2: "Li"})
    assert traj.elements.tolist() == ["H", "Li", "H", "Li"]
    np.testing.assert_allclose(traj.masses, [4.0, 6.94, 4.0, 6.94], rtol=1e-6)
    data, dump = _run(tmp_path / "cl", ["Cl", "Li", "Cl", "Li"],
                      masses=[35.45, 35.45, 35.45, 35.45])
    with pytest.raises(AnalysisError, match="type 2 weighs 35.450 amu there, Cl's mass"):
        read_lammps_trajectory(data, dump, timestep_fs=1.0, type_map={1: "Cl", 2: "Li"})


def test_a_mass_two_elements_share_names_neither(tmp_path):
    """40.0 amu lies within 0.1 amu of Ar (39.948) and Ca (40.078): the nearest (Ar) was
    taken, a CaF2 run's Ca read as argon (review RV10); now the map is asked for. Ca's own
    mass still names Ca, in the data file's Masses and in echoed ``mass`` commands."""
    from ionmd.lammps.echoed_input import mass_elements

    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    data, dump = _run(tmp_path / "a", ["Ca", "F", "Ca", "F"], masses=[40.0, 19.0, 40.0, 19.0])
    with pytest.raises(AnalysisError, match=r"mass 40\.000 amu \(within 0\.1 amu of both Ar "
                                            r"and Ca\).*type-map"):
        read_lammps_trajectory(data, dump, timestep_fs=1.0)
    data, dump = _run(tmp_path / "b", ["Ca", "F", "Ca", "F"])
    assert read_lammps_trajectory(data, dump, timestep_fs=1.0).elements.tolist()[:2] == \
        ["Ca", "F"]
    assert mass_elements({1: 40.0, 2: 18.998}) is None
    assert mass_elements({1: 40.078, 2: 18.998}) == ["Ca", "F"]
