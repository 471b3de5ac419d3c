"""compute heat/flux on pair_style ionmd's atoms is refused: the per-atom virial the style
gives compute stress/atom is the pairwise split of a many-body model's edge forces, and the
heat current built on it was off against the exact current of the model's own energies
(audit: SevenNet-0 10-15 %, a 2-layer SevenNet 6.6 %) without any message. stress/atom
alone (the pressure from the per-atom virials summed) stays allowed. Runs the real lmp on
8 atoms."""

import re

from lammps_runner import run_lmp, write_data
from structures import licl_supercell

ELEMENTS = ["Li", "Cl"]


def test_heat_flux_is_refused_and_stress_atom_alone_still_runs(tmp_path, morse):
    write_data(licl_supercell(rep=1, rattle=0.1), tmp_path / "s.data", ELEMENTS)
    script = f"""units metal
atom_style atomic
read_data s.data
pair_style ionmd {morse}
pair_coeff * * Li Cl
compute s all stress/atom NULL virial
compute ssum all reduce sum c_s[1] c_s[2] c_s[3]
variable p_atoms equal -(c_ssum[1]+c_ssum[2]+c_ssum[3])/(3*vol)
thermo_style custom step press v_p_atoms
thermo_modify format float %.15g
run 0
print "FIRST $(press:%.15g) $(v_p_atoms:%.15g)"
group nobody empty
compute ke all ke/atom
compute pe all pe/atom
compute hf_none nobody heat/flux ke pe s
run 0
print "SECOND DONE"
compute hf all heat/flux ke pe s
run 0
print "THIRD DONE"
"""
    proc = run_lmp(script, tmp_path, check=False)
    out = proc.stdout
    # stress/atom alone runs, and its per-atom virials sum to the pressure (atoms at rest)
    first = re.search(r"^FIRST (\S+) (\S+)$", out, re.M)
    assert first, out[-3000:]
    press, p_atoms = float(first.group(1)), float(first.group(2))
    assert abs(press) > 100.0
    assert abs(p_atoms - press) <= 1e-9 * abs(press)
    # a heat/flux whose group holds none of the model's atoms sums none of their virials
    assert "SECOND DONE" in out
    # the compute defined after the earlier runs is caught at the next run's init
    assert proc.returncode != 0 and "THIRD DONE" not in out
    flat = " ".join(out.split())
    assert "compute hf heat/flux (group all) takes 8 atom(s) of the model's types" in flat
    assert "heat current would be wrong (~10 % off for SevenNet-0)" in flat
    assert "pairwise split" in flat and "centroid" in flat
    assert "fix thermal/conductivity" in flat and "d/dt sum_i x_i e_i" in flat


def test_heat_flux_on_a_dynamic_group_is_refused(tmp_path, morse):
    """A dynamic group has the members of its last update: none at the first init (it
    updates at setup), so the count of the model's atoms in it was 0 and the heat/flux ran.
    Refused wherever the model's types have atoms."""
    write_data(licl_supercell(rep=1, rattle=0.1), tmp_path / "s.data", ELEMENTS)
    proc = run_lmp(f"""units metal
atom_style atomic
read_data s.data
pair_style ionmd {morse}
pair_coeff * * Li Cl
compute ke all ke/atom
compute pe all pe/atom
compute s all stress/atom NULL
variable low atom x<1
group hot dynamic all var low every 1
compute hf hot heat/flux ke pe s
fix 1 all nve
run 0
print DONE
""", tmp_path, check=False)
    assert proc.returncode != 0 and "DONE" not in proc.stdout, proc.stdout[-2000:]
    flat = " ".join(proc.stdout.split())
    assert ("compute hf heat/flux (group hot) is dynamic and can take any of the 8 atom(s) of "
            "the model's types") in flat
