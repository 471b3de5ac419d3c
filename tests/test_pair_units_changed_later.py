"""Units changed after the pair_style line: a `units` command before the box exists, or a
read_restart of a file written in other units (it sets the file's units). The pair_style
line itself was checked in metal units, and the run then took the model's eV and Angstrom
as kcal/mol (Li7P3S11 with SevenNet-0: 2852 "atm" for 66,643 bar) without any error
(audit A10, 2026-12-07). Each run is refused, as a pair_style line in those units is."""

from lammps_runner import run_lmp

BOX = ("region b block 0 6 0 6 0 6\ncreate_box 2 b\ncreate_atoms 1 single 1 1 1\n"
       "create_atoms 2 single 3 3 3\nmass 1 6.94\nmass 2 35.45\n")


def _refused(proc, units):
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert f"requires 'units metal' (models use eV and Angstrom), but units are '{units}' " \
           "(changed after the pair_style line" in proc.stdout
    assert "Step" not in proc.stdout    # no thermo output: nothing ran in the wrong units


def test_units_command_after_pair_style_is_refused_at_the_run(tmp_path, morse):
    script = (f"units metal\natom_style atomic\npair_style ionmd {morse}\nunits real\n{BOX}"
              "pair_coeff * * Li Cl\nthermo_style custom step pe press\nrun 0\n")
    _refused(run_lmp(script, tmp_path, check=False), "real")


def test_restart_in_other_units_read_after_pair_style_is_refused(tmp_path, morse):
    run_lmp(f"units real\natom_style atomic\n{BOX}write_restart real.restart\n", tmp_path)
    script = (f"units metal\npair_style ionmd {morse}\nread_restart real.restart\n"
              "pair_coeff * * Li Cl\nthermo_style custom step pe press\nrun 0\n")
    _refused(run_lmp(script, tmp_path, check=False), "real")


def test_metal_units_throughout_still_run(tmp_path, morse):
    """The same lines in metal units run (the check does not refuse the ordinary order)."""
    run_lmp(f"units metal\natom_style atomic\n{BOX}write_restart metal.restart\n", tmp_path)
    script = (f"units metal\npair_style ionmd {morse}\nread_restart metal.restart\n"
              "pair_coeff * * Li Cl\nthermo_style custom step pe press\nrun 0\n")
    proc = run_lmp(script, tmp_path)
    assert "Step" in proc.stdout
