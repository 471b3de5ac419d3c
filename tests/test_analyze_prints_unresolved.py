"""``ionmd analyze`` prints, under the fit they belong to, a line for each temperature the
fit leaves out as not resolved (its replicas' combined interval reaches zero: an upper
bound; run longer or add replicas) and for each run left out as repeating another's
trajectory (counted once; give each campaign its own seed). Before, the first reached the
user only as a stderr note and the second inside the fit's run-together ``left out:``
line, naming the repeated run by its full path.

The runs: real (synthetic) run folders whose failure check is ionmd's own, with D and
interval set by the test (``_analyze_one`` replaced; Arrhenius, 0.4 eV): 700, 800, 1000 K
one run each, 500 K two replicas straddling zero (not resolved), 900 K two runs with the
same D to the bit (one trajectory analysed twice). References: the replicas' plain mean by
numpy, the runs as the test named them."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from scipy.stats import t as student_t

import ionmd.cli.analyze as analyze_cli
import synthetic_trajectories as st
from ionmd.analysis.run_analysis import analyze_failures
from ionmd.analysis.run_records import run_record
from ionmd.cli import main

KB_EV = 8.617333262e-5
N_IONS, N_FRAMES = 8, 40
Q = float(student_t.ppf(0.975, N_IONS - 1))


def arrhenius_D(T: float) -> float:
    return 1e-4 * np.exp(-0.4 / (KB_EV * T))


D500 = arrhenius_D(500.0)
#: (T, replica) -> (D, its standard error)
RUNS = {(700, 0): (arrhenius_D(700), 0.05 * arrhenius_D(700)),
        (800, 0): (arrhenius_D(800), 0.05 * arrhenius_D(800)),
        (1000, 0): (arrhenius_D(1000), 0.05 * arrhenius_D(1000)),
        (500, 0): (2.0 * D500, 1.5 * D500), (500, 1): (-1.0 * D500, 1.5 * D500),
        (900, 0): (arrhenius_D(900), 0.05 * arrhenius_D(900)),
        (900, 1): (arrhenius_D(900), 0.05 * arrhenius_D(900))}


def _folder(root, T: int, k: int):
    folder = root / "LiCl" / f"T{T}" / f"r{k}"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(T + k)
    s = st.make(st.brownian_steps(N_FRAMES, 8, [0.1] * 3, 0.1, rng), L=12.0, rng=rng)
    st.write_lammps_files(folder, s, np.full(N_FRAMES, float(T)), specorder=["Cl", "Li"],
                          loop_steps=(N_FRAMES - 1) * 50)
    (folder / "run.json").write_text(json.dumps({
        "schema": "ionmd-run/1", "temperature_K": T, "timestep_fs": 2.0, "dump_every": 50,
        "discard_ps": 0.5, "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1},
        "structure": "LiCl"}))
    return folder


def _set_transport(spec, out, args, thresholds):
    """The run's own failure check, then the D (and a sigma of it) the test sets."""
    res = analyze_failures(spec, out, collapse_fraction=0.01)
    D, se = RUNS[(int(spec.temperature_K), int(spec.path.name[1:]))]
    iv = [max(D - Q * se, 0.0), D + Q * se]
    res["diffusion"] = [{"species": "Li", "direction": "xyz", "D": D, "D_ci95": iv,
                         "flags": [], "n_ions": N_IONS, "hops_per_ion": 5.0}]
    per_T = 1e6 / spec.temperature_K            # a sigma proportional to D / T
    res["conductivity"] = {"sigma": D * per_T, "sigma_ci95": [v * per_T for v in iv],
                           "flags": []}
    res["run_record"] = run_record(res, spec.run_status)
    return res


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    root = tmp_path_factory.mktemp("unresolved")
    folders = [str(_folder(root, T, k)) for T, k in RUNS]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(analyze_cli, "_analyze_one", _set_transport)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert main(["analyze", *folders, "-o", str(root / "out")]) in (0, None)
    return out.getvalue(), err.getvalue()


def _block(stdout: str, heading: str) -> list[str]:
    """The lines printed under the fit whose heading starts with ``heading``."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith(" "):
            break
        block.append(line)
    return block


@pytest.mark.parametrize("heading", ["LiCl D_Li:", "LiCl sigma:"])
def test_each_fit_prints_its_temperature_not_resolved(printed, heading):
    stdout, stderr = printed
    block = _block(stdout, heading)
    (line,) = [x for x in block if "not resolved at 500 K" in x]
    # replicas named by their folders' numbers (r0, r1: replicas 0 and 1 since 05d821a)
    assert line.startswith("  500K r0, 500K r1: not resolved at 500 K: its 2 replicas")
    if heading.endswith("D_Li:"):       # the replicas' plain mean, as numpy has it
        assert f"give {np.mean([2.0 * D500, -1.0 * D500]):.3g} " in line
    assert line.endswith("run longer, or add replicas")
    # said once: not again in the fit's left-out line, nor as a stderr note
    assert not any("500K r0" in x for x in block if x.lstrip().startswith("left out"))
    assert "not resolved at 500 K" not in stderr


@pytest.mark.parametrize("heading", ["LiCl D_Li:", "LiCl sigma:"])
def test_each_fit_prints_its_repeated_trajectory(printed, heading):
    stdout, stderr = printed
    block = _block(stdout, heading)
    (line,) = [x for x in block if "the same trajectory" in x]
    assert line.startswith("  900K r1: the same trajectory as 900K r0: the same D and "
                           "interval to the bit; counted once")
    assert "its own seed" in line
    assert not any("900K r1" in x for x in block if x.lstrip().startswith("left out"))
    assert "repeat another's trajectory" in stderr      # the series' warning stays
