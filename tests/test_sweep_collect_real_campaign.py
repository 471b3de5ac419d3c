"""`ionmd sweep collect` on a real local campaign (a toy superionic LiCl whose Li diffuses
in a frozen Cl lattice, 3 temperatures x 2 replicas) against computations of its own
from the same trajectories: MDAnalysis reads the DCD files, numpy gives each run's MSD
slope, the replicas are combined by their mean in D, scipy's curve_fit fits D = A
exp(-Ea / kT) in D itself by least squares weighted by each temperature's standard error in
D (the campaign fit since 0b32879: tests/arrhenius_in_d.py), and sigma is Nernst-Einstein
from the cell volume."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy.stats import t as student_t

from arrhenius_in_d import fit_in_y, pdg_ea_error
from ionmd.analysis.arrhenius_bootstrap import studentized_quantile
from ionmd.cli import main
from protocol_setup import superionic_folder

KB = 8.617333262e-5          # eV/K
E, KB_SI = 1.602176634e-19, 1.380649e-23

CAMPAIGN = """\
structures = ["licl.cif"]
models = ["licl.pt"]
temperatures = [1000, 1200, 1400]
replicas = 2
[protocol]
name = "conductivity-nvt"
# in the input cell, as before INPUTS_VERSION 3 (conductivity-nvt relaxes the cell
# since: this toy model would shrink it ~4 %); what these tests check is not the cell
relax = false
duration_ps = 3.0
discard_ps = 0.5
dump_every = 20
thermo_every = 20
restart_every = 500
supercell = "none"
template = "frozen.lmp"
[executor]
kind = "local"
cores = 2
[analysis]
charges = {Li = 1, Cl = -1}
fit_start_ps = 0.2
window_ps = 1.0
"""


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    folder = superionic_folder(tmp_path_factory.mktemp("collect"))
    (folder / "c.toml").write_text(CAMPAIGN)
    assert main(["sweep", "submit", str(folder / "c.toml"), "--no-progress"]) == 0
    assert main(["sweep", "collect", str(folder / "c.toml"), "--no-progress"]) == 0
    return json.loads((folder / "runs" / "collect" / "results.json").read_text())


def li_positions(run_dir):
    """Li positions per frame after the discarded part (MDAnalysis), the frame spacing
    in ps, and the cell volume in A^3."""
    import MDAnalysis as mda

    spec = json.loads((run_dir / "run.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = mda.Universe(str(run_dir / spec["data_file"]),
                         [str(run_dir / t) for t in spec["trajectory"]], format="DCD",
                         topology_format="DATA", atom_style="id type x y z")
        li = u.select_atoms("type 1")
        x = np.array([li.positions.copy() for _ in u.trajectory])
        volume = float(np.prod(u.dimensions[:3]))
    dt = spec["timestep_fs"] * spec["dump_every"] * 1e-3
    return x[int(round(spec["discard_ps"] / dt)):], dt, volume


def test_each_run_s_D_is_the_msd_slope_within_its_interval(collected):
    from pathlib import Path

    assert collected["complete"] and len(collected["runs"]) == 6
    for run in collected["runs"]:
        x, dt, _ = li_positions(Path(run["run"]))            # unwrapped (NVT dump)
        lags = np.arange(int(round(0.2 / dt)), int(round(1.0 / dt)) + 1)
        msd = [np.mean(np.sum((x[k:] - x[:-k]) ** 2, axis=2)) for k in lags]
        slope = np.polyfit(lags * dt, msd, 1)[0]                 # A^2/ps
        d_numpy = slope / 6 * 1e-4                               # cm^2/s
        (li,) = [m for m in run["mobile"] if m["species"] == "Li"]
        # two estimators of one slope (ionmd's weights its windows): close, not equal
        lo, hi = li["D_ci95"]
        assert lo / 1.25 <= d_numpy <= hi * 1.25, (run["temperature_K"], d_numpy, li)
        assert d_numpy == pytest.approx(li["D"], rel=0.35)


def test_replicas_arrhenius_and_sigma_match_an_own_computation(collected):
    from pathlib import Path

    rows = collected["rows"]
    assert [r["temperature_K"] for r in rows] == [1000.0, 1200.0, 1400.0]
    for row in rows:
        mine = [m for r in collected["runs"] if r["temperature_K"] == row["temperature_K"]
                for m in r["mobile"] if m["species"] == "Li"]
        d = np.array([m["D"] for m in mine])
        # replicas alike by design (one cell, protocol and length): their mean in D
        # (the arithmetic one: unbiased, where the geometric one is low)
        assert row["D_Li"]["weights"] == "equal"
        assert row["D_Li"]["value"] == pytest.approx(np.mean(d), rel=1e-9)
        # each run's sigma: Nernst-Einstein, Haven ratio 1: sigma = n q^2 D / (kB T); the
        # row's: the replicas' sigma combined as their D are
        runs = [r for r in collected["runs"] if r["temperature_K"] == row["temperature_K"]]
        for r, m in zip(runs, mine):
            x, _, volume = li_positions(Path(r["run"]))
            n = x.shape[1] / (volume * 1e-24)                     # Li per cm^3
            sigma = n * E ** 2 * m["D"] / (KB_SI * row["temperature_K"]) * 1e3   # mS/cm
            assert r["sigma_mS_cm"] == pytest.approx(sigma, rel=1e-6)
        s = np.array([r["sigma_mS_cm"] for r in runs])
        assert row["sigma"]["value"] == pytest.approx(np.mean(s), rel=1e-9)
    t = np.array([r["temperature_K"] for r in rows])
    d = np.array([r["D_Li"]["value"] for r in rows])
    # each row's standard error of ln D: its relative error (the delta method); where that
    # is below 20 % its interval is log-normal in shape, and reads back as it (Student t
    # at the row's dof)
    sd = np.array([r["D_Li"]["ln_err"] for r in rows])
    for r in rows:
        if r["D_Li"]["ln_err"] <= 0.2:
            assert r["D_Li"]["ln_err"] == pytest.approx(
                np.log(r["D_Li"]["ci95"][1] / r["D_Li"]["ci95"][0])
                / (2 * student_t.ppf(0.975, r["D_Li"]["dof"])), rel=1e-9)
    dof = np.array([r["D_Li"]["dof"] for r in rows], float)
    # the fit in D: each row weighted by its standard error in D (its relative error times
    # its value); errors estimated over the ions: PDG's rule, the covariance scaled by
    # chi2 / (n - 2) where above 1
    se = sd * d
    ref = fit_in_y(t, d, se)
    err = pdg_ea_error(ref, t.size)
    fit = collected["arrhenius"]["licl/licl"]["D_Li"]
    assert fit["Ea_eV"] == pytest.approx(ref["Ea"], rel=1e-9)
    assert fit["Ea_err_eV"] == pytest.approx(err, rel=1e-9)
    # the studentized bootstrap quantile of the fit as done, its errors estimated over the
    # ions (5edc5dd; the PDG scale in its draws from 3 temperatures), on its abscissa
    # -1 / k_B T and coefficients (ln A, Ea): Ea is the row (0, 1); the ln errors the fit in
    # D hands off: se / f at the fitted curve f
    q = studentized_quantile(np.array([[0.0, 1.0]]), -1.0 / (KB * t), se / ref["f"], dof,
                             scaled=t.size > 2)[0]
    assert fit["Ea_ci95"] == pytest.approx([ref["Ea"] - q * err, ref["Ea"] + q * err], rel=1e-9)
    assert all(r["Ea_eV"] == fit["Ea_eV"] for r in rows)
