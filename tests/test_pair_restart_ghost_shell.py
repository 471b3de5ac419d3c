"""A restart written with `ghost redundant` does not carry its ghost shell into later runs.

`ghost redundant` raises LAMMPS's user ghost cutoff (comm->cutghostuser) to layers x cutoff
+ skin, and LAMMPS writes that value into restart files: a run read from the file in halo
mode took it as the user's `comm_modify cutoff` (the auditor: ghost cutoff 10 vs 6, Nghost
1275 vs 535 per rank). The pair style now recognises its own shell and resets it: the
ghost cutoff LAMMPS prints after read_restart equals the read_data run's, and so do the
ghost counts and the energy.
"""

import re

import pytest

from contract_models import save_toy_staged
from lammps_runner import run_lmp, write_data
from structures import licl_supercell

ELEMENTS = ["Cl", "Li"]


def ghost_cutoff(log):
    (value,) = re.findall(r"ghost atom cutoff = ([\d.]+)", log)[-1:]
    return float(value)


def nghost(log):
    return float(re.findall(r"Nghost:\s+([\d.]+)", log)[-1])


def energy(log):
    return float(re.findall(r"^ENERGY (\S+)", log, re.M)[-1])


@pytest.mark.mpi
def test_halo_run_from_redundant_restart_has_halo_ghosts(tmp_path):
    model = save_toy_staged(tmp_path / "toy.pt")      # 3 layers x 3.6 A: shell 12.8 A
    write_data(licl_supercell(3, rattle=0.05, seed=4), tmp_path / "struct.data", ELEMENTS)
    head = "units metal\natom_style atomic\natom_modify map yes\n"
    tail = (f"pair_coeff * * {' '.join(ELEMENTS)}\nrun 0\n"
            'print "ENERGY $(pe:%.15g)"\n')
    redundant = run_lmp(head + "read_data struct.data\n"
                        f"pair_style ionmd {model} ghost redundant\n" + tail
                        + "write_restart redundant.rst\n", tmp_path, nprocs=2)
    assert ghost_cutoff(redundant.stdout) == pytest.approx(12.8)
    restarted = run_lmp("read_restart redundant.rst\n"
                        f"pair_style ionmd {model} ghost halo\n" + tail, tmp_path, nprocs=2)
    fresh = run_lmp(head + "read_data struct.data\n"
                    f"pair_style ionmd {model} ghost halo\n" + tail, tmp_path, nprocs=2)
    assert ghost_cutoff(fresh.stdout) == pytest.approx(5.6)
    assert ghost_cutoff(restarted.stdout) == ghost_cutoff(fresh.stdout)
    assert nghost(restarted.stdout) == nghost(fresh.stdout)
    assert "is the redundant ghost shell of this model" in restarted.stdout
    assert energy(restarted.stdout) == pytest.approx(energy(fresh.stdout), rel=1e-12)
    # a user's own comm_modify cutoff after the pair style stays
    kept = run_lmp("read_restart redundant.rst\n"
                   f"pair_style ionmd {model} ghost halo\ncomm_modify cutoff 13.0\n" + tail,
                   tmp_path, nprocs=2)
    assert ghost_cutoff(kept.stdout) == pytest.approx(13.0)
