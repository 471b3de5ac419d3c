"""The ensembles the protocols' LAMMPS inputs sample, against analytic results.

A Morse model (tests/protocol_setup.py, through pair_style ionmd) on 108-atom fcc cells,
runs of 3-10 ps at 600 K made by ``execute`` from the presets' own inputs:

* initial velocities: Maxwell-Boltzmann without total momentum only (`velocity ... mom
  yes rot no`); the angular momentum of such a draw is not zero: each component L_a has
  variance kT I_aa about the centre of mass. `rot yes` zeroes it, taking 3 more degrees
  of freedom out than the temperature's 3N - 3 (and under periodic boundaries angular
  momentum is no constant of motion anyway);
* Nose-Hoover NVT (fix nvt): kinetic energy with the canonical mean (N_dof/2) kT and
  variance (N_dof/2) (kT)^2, N_dof = 3N - 3 (LAMMPS's compute temp); the Berendsen
  thermostat of the MACE-SSE preset keeps the mean but not the variance (measured: about
  half), which shows the variance check has power;
* Nose-Hoover NpT on a sheared (triclinic) cell with the default ``couple auto`` (= tri):
  the mean pressure is the target and the mean shear stresses vanish; with ``aniso``
  LAMMPS keeps the cell angles fixed and the shear stress stays (tens of kbar here).

Tolerances. Block errors underestimate the kinetic energy's (the thermostat exchanges
energy over ~0.5 ps), so its bounds come from the spread of five seeds of the Nose-Hoover
run (10 ps, the first 1 discarded): <KE>/ref 1.002, 1.019, 0.986, 1.011, 0.999 (sd 0.012),
var/ref 1.02, 1.01, 0.91, 0.86, 0.91 (sd 0.07); Berendsen: var/ref 0.44-0.50. Pressure
and shear stress are checked against 4 block errors, with floors far below the
alternatives (no barostat: +19 kbar at 600 K here; aniso: -38 kbar of shear).
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from ionmd.lammps.thermo_log import parse_thermo
from ionmd.protocols import get_protocol, plan_runs
from ionmd.protocols.execute import execute
from ionmd.protocols.md_input import INPUTS, render_md
from protocol_setup import fcc_cell

pytestmark = pytest.mark.slow

KB = 8.617333262e-5          # eV/K
MVV2E = 1.0364269e-4         # LAMMPS metal units: (g/mol) (A/ps)^2 in eV
T = 600.0
N_ATOMS = 108                # fcc_cell(reps=3)
N_DOF = 3 * N_ATOMS - 3
N_BLOCKS = 8


@pytest.fixture(scope="module")
def stress_template(tmp_path_factory):
    """The md template with the shear stresses in the thermo output."""
    path = tmp_path_factory.mktemp("template") / "md_stress.lmp"
    text = (INPUTS / "md.lmp").read_text()
    assert "press vol atoms" in text
    path.write_text(text.replace("press vol atoms", "press vol atoms pxy pxz pyz"))
    return path


def sheared_cell():
    """fcc_cell(reps=3) under a shear strain of a few %: a triclinic LAMMPS box whose
    angles (88-89 deg) are not those of the crystal's stress-free cell (90 deg)."""
    atoms = fcc_cell(reps=3)
    strain = np.eye(3)
    strain[1, 0], strain[2, 0], strain[2, 1] = 0.04, 0.03, 0.02
    atoms.set_cell(atoms.cell.array @ strain.T, scale_atoms=True)
    return atoms


def run_protocol(tmp_path, morse, name, atoms, duration_ps, discard_ps, **overrides):
    """Run preset ``name`` at 600 K (thermo every 5 steps) through ``execute``; returns
    the rendered input and the thermo table after ``discard_ps``."""
    base = dict(temperatures=(T,), duration_ps=duration_ps, discard_ps=discard_ps,
                supercell=None,
                dump_every=1000, thermo_every=5, restart_every=1000, replicas=1,
                long_below_K=None)
    proto = get_protocol(name, **{**base, **overrides})
    (rd,) = plan_runs(proto, atoms, morse, tmp_path / name, name="fcc")
    status = execute(rd)
    assert status["state"] == "completed", status
    thermo = parse_thermo((rd.path / "log.0.lammps").read_text())
    keep = thermo["Time"] >= discard_ps
    return (rd.path / "in.0.lmp").read_text(), {k: v[keep] for k, v in thermo.items()}


def mean_and_error(x):
    blocks = np.array([b.mean() for b in np.array_split(x, N_BLOCKS)])
    return x.mean(), blocks.std(ddof=1) / np.sqrt(N_BLOCKS)


def kinetic_energy_ratios(thermo):
    """<KE> and var(KE) over their canonical values, each with its error."""
    ke = thermo["KinEng"]
    # the degrees of freedom LAMMPS's temperature counts: KE = (N_dof/2) k T
    assert np.allclose(ke / thermo["Temp"], N_DOF / 2 * KB, rtol=1e-5)
    kt = KB * T
    mean, mean_err = mean_and_error(ke)
    var_blocks = np.array([b.var() for b in np.array_split(ke, N_BLOCKS)])
    var_ref = N_DOF / 2 * kt ** 2
    return (mean / (N_DOF / 2 * kt), mean_err / (N_DOF / 2 * kt),
            ke.var() / var_ref, var_blocks.std(ddof=1) / np.sqrt(N_BLOCKS) / var_ref)


def test_initial_velocities_keep_their_angular_momentum(tmp_path, morse):
    proto = get_protocol("conductivity", ensemble="nvt", temperatures=(T,), supercell=None,
                         duration_ps=1.0, discard_ps=0.1)
    (rd,) = plan_runs(proto, fcc_cell(reps=3), morse, tmp_path, name="fcc")
    text = render_md(rd, 0, None)
    (velocity,) = re.findall(r"^velocity\s.*$", text, re.M)
    assert " mom yes " in velocity and " rot no " in velocity
    probe = "\n".join([f"variable L{a} equal angmom(all,{a})" for a in "xyz"]
                      + [f"variable I{a} equal inertia(all,{a}{a})" for a in "xyz"]
                      + ['print "PROBE $(v_Lx:%.10g) $(v_Ly:%.10g) $(v_Lz:%.10g) '
                         '$(v_Ix:%.10g) $(v_Iy:%.10g) $(v_Iz:%.10g)"'])
    text = text.replace(velocity, velocity + "\n" + probe)
    text = re.sub(r"^run\s.*$", "run 0", text, flags=re.M)
    (rd.path / "probe.lmp").write_text(text)
    out = subprocess.run(["lmp", "-in", "probe.lmp", "-log", "none"], cwd=rd.path,
                         capture_output=True, text=True, check=True).stdout
    (line,) = [ln for ln in out.splitlines() if ln.startswith("PROBE")]
    L, inertia = np.array(line.split()[1:4], float), np.array(line.split()[4:7], float)
    kt = KB * T / MVV2E                          # kT in (g/mol) (A/ps)^2
    chi2 = float(np.sum(L ** 2 / (kt * inertia)))   # chi-square with 3 degrees of freedom
    print(f"initial angular momentum: sum L_a^2 / (kT I_aa) = {chi2:.3g} (canonical mean 3)")
    assert 0.05 < chi2 < 30                      # rot yes: ~1e-20


def test_nose_hoover_nvt_samples_the_canonical_kinetic_energy(tmp_path, morse):
    text, thermo = run_protocol(tmp_path, morse, "conductivity", fcc_cell(reps=3), 10.0, 1.0,
                                ensemble="nvt")
    assert re.search(r"^fix\s+ens all nvt temp 600.0 600.0 0.1$", text, re.M)
    m, m_err, v, v_err = kinetic_energy_ratios(thermo)
    print(f"NVT Nose-Hoover: <KE>/ref = {m:.4f} +- {m_err:.4f}, var/ref = {v:.3f} +- {v_err:.3f}")
    assert abs(m - 1) < 0.05 and abs(v - 1) < 0.25


def test_berendsen_nvt_keeps_the_mean_but_not_the_canonical_variance(tmp_path, morse):
    text, thermo = run_protocol(tmp_path, morse, "conductivity-nvt", fcc_cell(reps=3), 4.0, 1.0)
    assert "temp/berendsen" in text
    m, m_err, v, v_err = kinetic_energy_ratios(thermo)
    print(f"NVT Berendsen: <KE>/ref = {m:.4f} +- {m_err:.4f}, var/ref = {v:.3f} +- {v_err:.3f}")
    assert abs(m - 1) < 0.05
    assert v < 0.7                               # measured 0.44-0.50: no canonical ensemble


def test_npt_on_a_triclinic_cell_holds_the_pressure_and_relaxes_the_shear(
        tmp_path, morse, stress_template):
    text, thermo = run_protocol(tmp_path, morse, "conductivity", sheared_cell(), 6.0, 2.0,
                                pdamp_fs=500.0, template=str(stress_template))
    (ens,) = re.findall(r"^fix\s+ens all npt .*$", text, re.M)
    assert " tri 1.01325 1.01325 " in ens, ens
    p, p_err = mean_and_error(thermo["Press"])
    shear = {k: mean_and_error(thermo[k]) for k in ("Pxy", "Pxz", "Pyz")}
    print(f"NpT tri: <P> = {p:.0f} +- {p_err:.0f} bar (target 1.01325); shear "
          + ", ".join(f"{k} {m:.0f} +- {e:.0f}" for k, (m, e) in shear.items()))
    assert abs(p - 1.01325) < max(4 * p_err, 1000.0)
    for m, e in shear.values():
        assert abs(m) < max(4 * e, 1500.0)
    m, m_err, v, v_err = kinetic_energy_ratios(thermo)
    print(f"NpT tri: <KE>/ref = {m:.4f} +- {m_err:.4f}, var/ref = {v:.3f} +- {v_err:.3f}")
    assert abs(m - 1) < 0.06 and abs(v - 1) < 0.35          # 4 ps only: wider bounds


def test_aniso_on_a_triclinic_cell_keeps_the_angles_and_the_shear_stress(
        tmp_path, morse, stress_template):
    """What ``couple auto`` avoids: LAMMPS's aniso scales the tilt factors with the box
    lengths, so the sheared cell's stress never relaxes."""
    text, thermo = run_protocol(tmp_path, morse, "conductivity", sheared_cell(), 3.0, 1.0,
                                pdamp_fs=500.0, couple="aniso", template=str(stress_template))
    assert re.search(r"^fix\s+ens all npt .* aniso ", text, re.M)
    pxy, err = mean_and_error(thermo["Pxy"])
    print(f"NpT aniso: <Pxy> = {pxy:.0f} +- {err:.0f} bar")
    assert abs(pxy) > 10 * max(err, 500.0)
