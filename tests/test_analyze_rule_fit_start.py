"""`ionmd analyze` of a run stopped by its rule, without --fit-start-ps, fits the MSD from
the start the rule's checks used (status.json's stopping.fit_start_ps), as `sweep collect`
does: the audit's `ionmd run --until "hops>=120,D_rel_ci<=0.3" --set fit_start_ps=0.1`
stopped as converged at D_rel_ci 0.238, and `ionmd analyze` of it printed D 7 % higher with
D_rel_ci 0.45 (a fit from its default 1 ps), beside "(99%: rule stop)".

The reference: the rule's own check redone on the run's frames
(``ionmd.analysis.convergence.convergence_values`` at the rule's fit start, as ``check_run``
computes it but for its collapse check: Brownian ions overlap), whose D and 95 % interval
the run recorded, and scipy's Student t at 99 % over the ions for the interval reported."""

from __future__ import annotations

import json

import pytest
from scipy.stats import t as student_t

from ionmd.analysis.convergence import convergence_values
from ionmd.analysis.run_analysis import transport_trajectory
from ionmd.analysis.run_inputs import run_frames
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.protocols import plan_runs
from protocol_setup import fcc_cell, morse_model, short
from sweep_setup import brownian_run

RULE = "D_rel_ci<=0.5,hops>=10"
FIT_START = 0.3                 # ps; the analysis' own default is 1 ps


def test_analyze_fits_a_rule_run_from_its_checks_fit_start(tmp_path):
    proto = short("conductivity-nvt", until=RULE, fit_start_ps=FIT_START, duration_ps=30.0,
                  discard_ps=2.0, check_every_ps=10.0, restart_every=5000, dump_every=50,
                  timestep_fs=2.0)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"), tmp_path / "out",
                      name="fcc")
    brownian_run(rd, 800.0, 3, 0.25, 0.5)         # 16 Brownian Li, 30 ps, 0.1 ps a frame
    spec = load_run_spec(rd.path)
    traj = transport_trajectory(spec, *run_frames(spec))
    values = convergence_values(traj, spec.mobile_species, fit_start_ps=FIT_START)
    li = values["species"]["Li"]
    rd.set_status("completed", step=15000, pieces=1, resumable=False, stop_reason="converged",
                  stopping={"until": RULE, "check_every_ps": 10.0, "max_time_ps": 30.0,
                            "fit_start_ps": FIT_START},
                  checks=[{"step": 15000, "time_ps": 30.0, "met": True, "values": values}],
                  D_ci95_at_stop={"Li": li["D_ci95_at_stop"]})
    out = tmp_path / "analysis"
    assert main(["analyze", str(rd.path), "-o", str(out), "--collapse-fraction", "0.01",
                 "--charges", "Li=1,Cl=-1"]) in (0, None)
    (res,) = [json.loads(f.read_text()) for f in out.rglob("results.json")]
    (d,) = [d for d in res["diffusion"] if d["species"] == "Li" and d["direction"] == "xyz"]
    assert d["fit_start_ps"] == FIT_START
    assert d["D"] == pytest.approx(li["D"], rel=1e-12)
    assert d["D_ci95_unwidened"] == pytest.approx(li["D_ci95"], rel=1e-12)
    # reported: the 99 % Student t interval of the same estimate, the one the run recorded
    q95, q99 = (student_t.ppf(p, li["n_ions"] - 1) for p in (0.975, 0.995))
    half95 = (li["D_ci95"][1] - li["D_ci95"][0]) / 2
    assert d["D_ci95"] == pytest.approx([li["D"] - half95 * q99 / q95,
                                         li["D"] + half95 * q99 / q95], rel=1e-9)
    assert d["D_ci95"] == pytest.approx(li["D_ci95_at_stop"], rel=1e-12)
    # an explicit --fit-start-ps still decides (the run's default analysis is 1 ps)
    other = tmp_path / "other"
    assert main(["analyze", str(rd.path), "-o", str(other), "--collapse-fraction", "0.01",
                 "--charges", "Li=1,Cl=-1", "--fit-start-ps", "1"]) in (0, None)
    (res1,) = [json.loads(f.read_text()) for f in other.rglob("results.json")]
    (d1,) = [d for d in res1["diffusion"] if d["species"] == "Li" and d["direction"] == "xyz"]
    assert d1["fit_start_ps"] == 1.0 and d1["D"] != pytest.approx(li["D"], rel=1e-6)
