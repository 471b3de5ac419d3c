"""The small LAMMPS cells that tests build with LAMMPS's own pair styles (fast, no plugin):
the first lines of an input script, up to and including the pair coefficients; each test
adds its own fixes, dumps and runs."""

from __future__ import annotations

TILTED_PRISM = "prism 0 3 0 3 0 3 0.3 0.2 0.1"


def two_type_lj_cell(lattice: str = "fcc 4.0", *, region: str = TILTED_PRISM, settings: str = "",
                     like_pair: bool = True) -> str:
    """108 atoms (``lattice`` over a 3 x 3 x 3 ``region b``, triclinic by default), half of
    type 1 turned into type 2 (Li and Cl masses), ``lj/cut 6.0`` in metal units; a weaker
    1-1 pair unless ``like_pair`` is false. ``settings``: lines that go right after
    ``atom_style`` (``boundary``, ``atom_modify``)."""
    return ("units metal\natom_style atomic\n" + settings
            + f"lattice {lattice}\nregion b {region}\n"
            "create_box 2 b\ncreate_atoms 1 box\nset type 1 type/fraction 2 0.5 1\n"
            "mass 1 6.94\nmass 2 35.45\npair_style lj/cut 6.0\npair_coeff * * 0.05 2.6\n"
            + ("pair_coeff 1 1 0.01 2.0\n" if like_pair else ""))


def lj_units_fcc_cell(z_range: str = "-0.25 2.75") -> str:
    """108 LJ atoms in reduced units at LAMMPS's ``bench/in.lj`` density (fcc 0.8442,
    region ``box`` of 3 x 3 x 3 cells) and thermo columns step temp pe. The default z range
    keeps every atom a quarter cell off the z faces, so ``change_box all boundary p p f``
    loses none of them by itself."""
    return f"""units lj
lattice fcc 0.8442
region box block 0 3 0 3 {z_range}
create_box 1 box
create_atoms 1 box
mass 1 1.0
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
thermo_style custom step temp pe
"""


# after :func:`lj_units_fcc_cell`: z made fixed and atom 1 pushed out through it while
# minimising (atoms lost during a minimisation)
MINIMIZE_PUSHING_ATOM_OUT = """change_box all boundary p p f
group kick id 1
fix push kick addforce 0 0 -50
fix_modify push energy yes
thermo 1
min_modify dmax 0.02
minimize 0 0 100 1000
"""
