"""A stability-like campaign (its thermostat ramped over each run, LAMMPS with the Morse
Li/Cl toy) collected by ``ionmd sweep collect`` gives each run the record ``ionmd analyze``
of the same folders gives it: the ramp run its length (runs.csv's ``run_length_ps``, from
the first frame kept after the discard to the last) and no D; a run held at the ramp's end
(``temperature_end`` = its temperature: no ramp) its D and sigma. Collect gave a thermostat
ramp's runs a failure check only, so runs.csv had no length for a ramp (audit A12) and no D
for a held run, which analyze analyses. The reference is ``ionmd analyze`` of the runs, and
the run's own frames (their dumped steps)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ionmd.cli import main
from sweep_setup import campaign_dir, write_campaign

# 300 -> 400 K over 0.5 ps, a gentle ramp the 32-atom toy survives (the preset's 2100 K
# would melt it); frames every 10 steps, the first 0.1 ps discarded
EXTRA = "temperature_end = 400\nhalt_volume_change = 0.5"
ANALYSIS = "charges = {Li = 1, Cl = -1}\nfit_start_ps = 0.05\nwindow_ps = 0.2"


@pytest.fixture(scope="module")
def both(tmp_path_factory, morse):
    """collect's runs.csv rows and ``ionmd analyze``'s per-run results, by temperature."""
    folder = campaign_dir(tmp_path_factory.mktemp("stability") / "camp", morse)
    path = write_campaign(folder, name="stab", protocol="stability", temperatures=(300, 400),
                          analysis=ANALYSIS)
    path.write_text(path.read_text().replace("[protocol]\n", f"[protocol]\n{EXTRA}\n"))
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    with open(folder / "runs" / "collect" / "runs.csv", newline="") as fh:
        rows = {float(r["temperature_K"]): r for r in csv.DictReader(fh)}
    out = tmp_path_factory.mktemp("analyzed")
    run_dirs = [r["run"] for r in rows.values()]
    assert main(["analyze", *run_dirs, "-o", str(out), "--fit-start-ps", "0.05",
                 "--window-ps", "0.2"]) in (0, None)     # collect's [analysis]
    analysed = {}
    for f in out.rglob("results.json"):
        res = json.loads(f.read_text())
        analysed[res["temperature_K"]] = res
    assert sorted(analysed) == sorted(rows) == [300.0, 400.0]
    return rows, analysed


def test_ramp_run_has_analyze_s_length(both):
    rows, analysed = both
    ramp = analysed[300.0]
    assert ramp["temperature_end_K"] == 400.0 and "no_transport" in ramp    # the premise
    assert rows[300.0]["state"] == "completed" and rows[300.0]["failed"] == "False"
    # its frames: first kept after the 0.1 ps discard to the last, 1 fs steps
    steps = _dumped_steps(rows[300.0]["run"])
    kept = [s for s in steps if (s - steps[0]) * 1e-3 >= 0.1 - 1e-9]
    assert float(rows[300.0]["run_length_ps"]) == pytest.approx((kept[-1] - kept[0]) * 1e-3)
    assert float(rows[300.0]["run_length_ps"]) == pytest.approx(ramp["run_length_ps"])
    assert not any(k.startswith("D_Li") and v for k, v in rows[300.0].items())


def test_run_held_at_temperature_end_has_analyze_s_transport(both):
    rows, analysed = both
    held = analysed[400.0]
    assert "temperature_end_K" not in held and held["diffusion"]       # no ramp: analysed
    li = next(d for d in held["diffusion"] if d["species"] == "Li" and d["direction"] == "xyz")
    row = rows[400.0]
    assert float(row["run_length_ps"]) == pytest.approx(held["run_length_ps"])
    assert float(row["D_Li_cm2_s"]) == pytest.approx(li["D"], rel=1e-9)
    assert [float(row["D_Li_ci95_lo"]), float(row["D_Li_ci95_hi"])] == \
        pytest.approx(li["D_ci95"], rel=1e-9)


def _dumped_steps(run: str) -> list[int]:
    """The run's dumped steps (its DCD frames, counted by MDAnalysis, an independent
    reader, ``dump_every`` steps apart from step 0)."""
    import warnings

    import MDAnalysis as mda

    spec = json.loads((Path(run) / "run.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = mda.Universe(str(Path(run) / spec["data_file"]),
                         [str(Path(run) / t) for t in spec["trajectory"]], format="DCD",
                         topology_format="DATA", atom_style="id type x y z")
        return [k * spec["dump_every"] for k in range(len(u.trajectory))]
