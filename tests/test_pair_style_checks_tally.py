"""LAMMPS's tally computes (TALLY package) with pair_style ionmd are refused: they collect
pair-by-pair energies, forces and virials through callbacks that only pairwise styles make,
so for a many-body model they gave zeros (audit: pe/tally 0 for an 8-atom LiCl of pe
-13.64 eV), with only LAMMPS's generic 'used with incompatible pair style' warning. What the
refusal points to instead (compute pe/atom, stress/atom, pair ionmd) runs and sums to the
model's energy and pressure. Runs the real lmp on 8 atoms of the Morse contract model."""

import re

import pytest

from lammps_runner import run_lmp, write_data
from structures import licl_supercell

ELEMENTS = ["Li", "Cl"]


def _script(morse, compute: str, atom_style: str = "atomic", data: str = "s.data") -> str:
    return (f"units metal\natom_style {atom_style}\nread_data {data}\n"
            f"pair_style ionmd {morse}\npair_coeff * * Li Cl\n{compute}\n"
            "thermo_style custom step pe\nrun 0\nprint DONE\n")


def _molecular_data(path, atoms) -> None:
    """The 8 atoms as an atom_style bond data file (molecule IDs: pe/mol/tally needs them)."""
    cell = [float(v) for v in atoms.cell.lengths()]
    types = [ELEMENTS.index(s) + 1 for s in atoms.get_chemical_symbols()]
    lines = ["LiCl with molecule IDs", "", f"{len(atoms)} atoms", "2 atom types", "1 bond types",
             "", f"0 {cell[0]!r} xlo xhi", f"0 {cell[1]!r} ylo yhi", f"0 {cell[2]!r} zlo zhi",
             "", "Masses", "", "1 6.94", "2 35.45", "", "Atoms # bond", ""]
    lines += [f"{i + 1} {i % 2 + 1} {t} {x:.17g} {y:.17g} {z:.17g}"
              for i, (t, (x, y, z)) in enumerate(zip(types, atoms.positions))]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def cell_dir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tally")
    atoms = licl_supercell(rep=1, rattle=0.1)
    write_data(atoms, workdir / "s.data", ELEMENTS)
    _molecular_data(workdir / "mol.data", atoms)
    return workdir


@pytest.mark.parametrize("style, args", [
    ("force/tally", "all"), ("pe/tally", "all"), ("stress/tally", "all"),
    ("heat/flux/tally", "all"), ("heat/flux/virial/tally", "nobody"), ("pe/mol/tally", "all"),
])
def test_tally_compute_is_refused(cell_dir, morse, style, args, tmp_path):
    for name in ("s.data", "mol.data"):
        (tmp_path / name).write_bytes((cell_dir / name).read_bytes())
    molecular = style == "pe/mol/tally"
    compute = f"group nobody empty\ncompute t all {style} {args}"
    proc = run_lmp(_script(morse, compute, "bond" if molecular else "atomic",
                           "mol.data" if molecular else "s.data"), tmp_path, check=False)
    assert proc.returncode != 0 and "DONE" not in proc.stdout, proc.stdout[-2000:]
    flat = " ".join(proc.stdout.split())
    assert (f"pair_style ionmd: compute t {style} (group all) takes 8 atom(s) of the model's "
            "types, and would give zero for them") in flat, flat[-2000:]
    assert "Remove the compute t" in flat
    if style.startswith("heat/flux"):
        assert "no supported Green-Kubo heat current" in flat
        assert "fix thermal/conductivity" in flat
    else:
        assert "compute pe/atom" in flat and "compute stress/atom NULL" in flat
        assert "compute pair ionmd" in flat


def test_what_the_refusal_points_to_runs(cell_dir, morse, tmp_path):
    """pe/atom, stress/atom and compute pair ionmd run and sum to the model's energy and
    pressure; a tally compute whose group holds none of the model's atoms tallies nothing of
    the model and runs; one defined after a run is refused at the next run's init."""
    (tmp_path / "s.data").write_bytes((cell_dir / "s.data").read_bytes())
    script = f"""units metal
atom_style atomic
read_data s.data
pair_style ionmd {morse}
pair_coeff * * Li Cl
group nobody empty
compute pe all pe/atom
compute s all stress/atom NULL virial
compute sums all reduce sum c_pe c_s[1] c_s[2] c_s[3]
compute pair all pair ionmd
compute t_none nobody pe/tally all
variable p_atoms equal -(c_sums[2]+c_sums[3]+c_sums[4])/(3*vol)
thermo_style custom step pe c_pair c_sums[1] press v_p_atoms
thermo_modify format float %.15g
run 0
print "FIRST $(pe:%.15g) $(c_pair:%.15g) $(c_sums[1]:%.15g) $(press:%.15g) $(v_p_atoms:%.15g)"
compute t all pe/tally all
run 0
print "SECOND DONE"
"""
    proc = run_lmp(script, tmp_path, check=False)
    out = proc.stdout
    first = re.search(r"^FIRST (\S+) (\S+) (\S+) (\S+) (\S+)$", out, re.M)
    assert first, out[-3000:]
    pe, pair, pe_atoms, press, p_atoms = (float(v) for v in first.groups())
    assert pe < -1.0
    assert pair == pytest.approx(pe, rel=1e-12)
    assert pe_atoms == pytest.approx(pe, rel=1e-12)
    assert abs(press) > 100.0 and p_atoms == pytest.approx(press, rel=1e-9)
    assert proc.returncode != 0 and "SECOND DONE" not in out
    assert "compute t pe/tally (group all) takes 8 atom(s)" in " ".join(out.split())
