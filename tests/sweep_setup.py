"""Shared pieces of the sweep tests: campaign files written next to a Morse model (Li, Cl)
and an fcc Li/Cl cell, and the line of a marker in a file (the reference for the line
numbers that validation errors must name)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from scipy.constants import Boltzmann, electron_volt

import synthetic_trajectories as st
from protocol_setup import fcc_cell, morse_model, superionic_folder

KB = Boltzmann / electron_volt      # eV/K

PROTOCOL = """\
[protocol]
name = "{protocol}"
duration_ps = {duration_ps}
discard_ps = {discard_ps}
dump_every = 10
thermo_every = 10
restart_every = {restart_every}
supercell = "none"
tdamp_fs = 50.0
pdamp_fs = 500.0
"""


def campaign_dir(tmp: Path, morse: Path) -> Path:
    """A folder with ``morse.pt`` (a copy) and ``fcc.cif`` (32 atoms)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "morse.pt").write_bytes(Path(morse).read_bytes())
    fcc_cell().write(tmp / "fcc.cif")
    return tmp


def write_campaign(folder: Path, *, name: str = "c", temperatures=(600, 900), replicas: int = 1,
                   protocol: str = "conductivity", duration_ps: float = 0.5,
                   restart_every: int = 100, discard_ps: float = 0.1, executor: str = 'kind = "local"\ncores = 2',
                   resources: str = "ranks = 1\nwalltime = \"0:10:00\"", extra: str = "",
                   analysis: str = "charges = {Li = 1, Cl = -1}\nmcmc_samples = 50\n"
                                   "fit_start_ps = 0.05\nwindow_ps = 0.2",
                   structures: str = '["fcc.cif"]', models: str = '["morse.pt"]',
                   output: str = "runs") -> Path:
    """A campaign file ``<name>.toml`` in ``folder``. Its runs (0.5 ps less 0.1 ps
    discarded) end the MSD fit at 0.2 ps: an ``analysis`` of its own needs a
    ``fit_start_ps`` before it (0.05 as the default analysis; the default 1 ps is refused)
    or longer runs (``duration_ps``)."""
    text = (f'name = "{name}"\noutput = "{output}"\nstructures = {structures}\nmodels = {models}\n'
            f"temperatures = {list(temperatures)}\nreplicas = {replicas}\n{extra}\n"
            + PROTOCOL.format(protocol=protocol, duration_ps=duration_ps,
                              restart_every=restart_every, discard_ps=discard_ps)
            + f"\n[resources]\n{resources}\n\n[executor]\n{executor}\n\n[analysis]\n{analysis}\n")
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def brownian_run(rd, T: float, seed: int, ea: float, d_1000: float, frames: int = 300) -> float:
    """The run folder's files replaced by a Brownian trajectory (16 Li, ``frames`` frames
    0.1 ps apart) of Arrhenius D (activation energy ``ea`` eV, ``d_1000`` A^2/ps at
    1000 K), marked completed; run.json keeps what ionmd wrote (its model among it).
    Returns D (A^2/ps)."""
    rng = np.random.default_rng(seed)
    D = d_1000 * np.exp(-ea / KB * (1 / T - 1 / 1000))
    s = st.make(st.brownian_steps(frames, 16, [D] * 3, 0.1, rng), L=12.0, rng=rng)
    st.write_lammps_files(rd.path, s, [T] * len(s.true.boxes), specorder=["Li", "Cl"],
                          dcd="traj.0.dcd", log="log.0.lammps")
    meta = rd.read_json("run.json")
    meta.update(timestep_fs=2.0, dump_every=50, discard_ps=2.0, trajectory=["traj.0.dcd"],
                logs=["log.0.lammps"], dump_unwrapped=True, type_map={"1": "Li", "2": "Cl"})
    rd.write_json("run.json", meta)
    rd.set_status("completed", step=15000 if frames == 300 else (frames - 1) * 50, pieces=1,
                  resumable=False)
    return D


def brownian_campaign(path: Path, ea_of: dict) -> tuple[list, dict]:
    """The campaign at ``path`` planned, each run replaced by :func:`brownian_run` (seed:
    its index; Ea and D at 1000 K: ``ea_of[its model]``) and ``sweep collect``-ed: its
    runs and collect's results.json. The campaign should plan runs as long as those
    trajectories (``duration_ps=30, discard_ps=2``), so that its fit window suits both."""
    from ionmd.cli import main
    from ionmd.sweep import load_campaign, plan_campaign

    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, *ea_of[run.model])
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    return runs, json.loads((path.parent / "runs" / "collect" / "results.json").read_text())


GOAL_CAMPAIGN = """\
name = "goal"
output = "runs"
structures = ["licl.cif"]
models = ["licl.pt"]
temperatures = {temperatures}
replicas = 1
goal = {{{goal}}}

[protocol]
name = "conductivity-nvt"
# in the input cell, as before INPUTS_VERSION 3 (conductivity-nvt relaxes the cell
# since: this toy model would shrink it ~4 %); what these tests check is not the cell
relax = false
duration_ps = 1.5
discard_ps = 0.5
dump_every = 20
thermo_every = 20
restart_every = 500
supercell = "none"
template = "frozen.lmp"
{protocol_extra}
[resources]
ranks = 1
{threads}walltime = "0:10:00"

[executor]
kind = "local"
cores = 2

[analysis]
charges = {{Li = 1, Cl = -1}}
mcmc_samples = 100
fit_start_ps = 0.1
window_ps = 0.5
"""


# temperatures (K) of the toy where all its runs of 1.5 ps are diffusive: Li 1.7 hops per
# ion, no flag, at each (1000 K: 0.9 hops, too_few_hops; 1100 K: 0.8, not_linear too),
# so that a goal can be met at once (no goal is met on a point flagged not diffusive)
DIFFUSIVE_K = (1200, 1300, 1400)


def goal_campaign_text(goal: str, *, protocol_extra: str = "", threads: int | None = None,
                       temperatures=(1000, 1200, 1400)) -> str:
    """A goal campaign of the toy superionic conductor (:func:`superionic_folder`) at
    ``temperatures`` (1000-1400 K: its 1000 K run is flagged too_few_hops, extended by a
    goal first; :data:`DIFFUSIVE_K` none), 1.5 ps a run on the local executor; ``goal``: the
    inside of its ``goal`` table; ``protocol_extra``: lines added to ``[protocol]``;
    ``threads`` a rank if given."""
    return GOAL_CAMPAIGN.format(goal=goal, protocol_extra=protocol_extra,
                                temperatures=list(temperatures),
                                threads="" if threads is None else f"threads = {threads}\n")


def goal_campaign(folder: Path, goal: str, **text) -> Path:
    """``folder`` made a superionic campaign folder with ``goal.toml``
    (:func:`goal_campaign_text` of ``goal`` and ``text``)."""
    superionic_folder(folder)
    path = folder / "goal.toml"
    path.write_text(goal_campaign_text(goal, **text))
    return path


def planned_models(folder: Path, models: list[str], create: bool = False,
                   record: str = "model_hash") -> dict[str, tuple[str, str]]:
    """{model name: (its run folder, ``record`` of its run's settings.json)} of the campaign
    in ``folder`` listing ``models`` (one temperature); every run's folder checked as plan
    checks it."""
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign

    campaign = load_campaign(write_campaign(folder, temperatures=(600,),
                                            models=json.dumps(models)), check_resources=False)
    out = {}
    for run in plan_campaign(campaign, create=create):
        settings = json.loads((run.rundir.path / "settings.json").read_text())
        out[run.model] = (run.rundir.path.parts[-4], settings[record])
    return out


def deeper_morse(folder: Path, rel: str, depth: float) -> Path:
    """A Morse model of well depth ``depth`` x MORSE's at ``folder/rel``: another model."""
    from contract_models import MorseEdgeModel, save_contract_model
    from protocol_setup import ELEMENTS, MORSE

    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_contract_model(MorseEdgeModel(**{**MORSE, "d0": depth * MORSE["d0"]}), path,
                               cutoff=MORSE["rc"], elements=ELEMENTS)


def line_of(path: Path, marker: str) -> int:
    """1-based line of the first line of ``path`` containing ``marker``."""
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if marker in line:
            return i
    raise AssertionError(f"{marker!r} not in {path}")


__all__ = ["DIFFUSIVE_K", "brownian_campaign", "brownian_run", "campaign_dir", "goal_campaign", "goal_campaign_text", "line_of",
           "morse_model", "write_campaign"]


def wait_for(cond, timeout: float = 120.0, what: str = "") -> None:
    """Poll ``cond`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def patch_classify(monkeypatch, fake) -> None:
    """``classify`` replaced by ``fake`` (``fake(rd, jobs=None) -> class``) for the test, in
    ``ionmd.sweep.state`` and in the modules that bind it at import (collect, submit): they
    are imported first, so none keeps the fake for the tests after (a module first
    imported under a patch of state.classify alone kept it: test_sweep_goal_local_run's
    campaign then ran nothing when run after test_arrhenius_fit_problem)."""
    import ionmd.sweep.collect as collect_mod
    import ionmd.sweep.state as state_mod
    import ionmd.sweep.submit as submit_mod

    for module in (state_mod, collect_mod, submit_mod):
        monkeypatch.setattr(module, "classify", fake)
