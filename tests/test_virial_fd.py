"""The LAMMPS pressure tensor equals -dE/d(strain)/V from finite differences of the
energy, all six components, for triclinic cells (analytic reference: W_ab = -dE/de_ab).

Strains are applied by LAMMPS itself (change_box ... remap), in one lmp run, as
upper-triangular deformations F = 1 + d e_a (x) e_b, which keep the box triclinic in
LAMMPS's convention and move atoms affinely."""

import numpy as np
import pytest

from lammps_runner import EV_PER_A3_TO_BAR, run_lmp, write_data
from structures import licl_primitive_small, triclinic_distorted

COMPONENTS = {"xx": (0, 0), "yy": (1, 1), "zz": (2, 2), "xy": (0, 1), "xz": (0, 2), "yz": (1, 2)}
DELTA = 1e-4


def box_command(cell):
    """change_box arguments for a lower-triangular cell (rows a, b, c) with origin 0."""
    (ax, _, _), (bx, by, _), (cx, cy, cz) = (map(repr, map(float, row)) for row in cell)
    return (f"x final 0 {ax} y final 0 {by} z final 0 {cz} "
            f"xy final {bx} xz final {cx} yz final {cy} remap units box")


def base_print(*extra: str) -> str:
    """The script line that writes the unstrained pressure tensor and volume (and the
    ``extra`` LAMMPS quantities) as fd.txt's first line."""
    values = " ".join(f"$({q}:%.17g)" for q in ("pxx", "pyy", "pzz", "pxy", "pxz", "pyz", "vol",
                                                 *extra))
    return f'print "BASE {values}" file fd.txt'


def strain_scan(h, delta: float = DELTA) -> list[str]:
    """Script lines appending to fd.txt the energy of the cell ``h`` under each of the six
    strains +-``delta`` (and restoring ``h`` after each)."""
    lines = []
    for name, (a, b) in COMPONENTS.items():
        for sign in (+1, -1):
            F = np.eye(3)
            F[a, b] += sign * delta
            strained = h @ F.T
            assert np.allclose(np.triu(strained, 1), 0.0)
            lines += [f"change_box all {box_command(strained)}", "run 0",
                      f'print "{name} {sign} $(pe:%.17g)" append fd.txt',
                      f"change_box all {box_command(h)}"]
    return lines


def virials(fd_text: str, delta: float = DELTA):
    """From a scan's fd.txt: the virial LAMMPS reports (eV; xx yy zz xy xz yz), the one
    central differences of the energy give (-dE/de_ab), and the BASE line's values."""
    rows = fd_text.splitlines()
    base = np.array(rows[0].split()[1:], float)
    energies = {(name, int(sign)): float(pe) for name, sign, pe in map(str.split, rows[1:])}
    w_lammps = base[:6] * base[6] / EV_PER_A3_TO_BAR
    w_fd = np.array([-(energies[c, 1] - energies[c, -1]) / (2 * delta) for c in COMPONENTS])
    return w_lammps, w_fd, base


def fd_script(atoms, model_file, elements):
    lines = ["units metal", "atom_style atomic", "boundary p p p", "read_data struct.data",
             "change_box all triclinic",
             f"pair_style ionmd {model_file}", f"pair_coeff * * {' '.join(elements)}",
             "thermo_style custom step pe pxx pyy pzz pxy pxz pyz vol",
             "run 0", base_print()]
    return "\n".join(lines + strain_scan(atoms.cell.array)) + "\n"


@pytest.mark.parametrize("model,make", [("sevennet0_f64", licl_primitive_small),
                                        ("tiny_f64", triclinic_distorted),
                                        ("tiny_mace_f64", licl_primitive_small)],
                         ids=["sevennet0_licl_primitive", "tiny_triclinic_64",
                              "mace_licl_primitive"])
def test_pressure_is_strain_derivative(model, make, request, tmp_path):
    model_file = request.getfixturevalue(model)
    atoms = make()
    elements = ["Cl", "Li"]
    write_data(atoms, tmp_path / "struct.data", elements)
    run_lmp(fd_script(atoms, model_file, elements), tmp_path)
    w_lammps, w_fd, _ = virials((tmp_path / "fd.txt").read_text())
    assert np.abs(w_lammps).max() > 1e-2, "degenerate test: no stress to compare"
    np.testing.assert_allclose(w_lammps, w_fd, rtol=1e-6, atol=2e-6)
