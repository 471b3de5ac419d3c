"""Runs of a series that repeat another run's trajectory (:func:`same_trajectories`): two
campaigns with one seed, temperature, structure and settings run the same walk, which
counted twice would halve its error; each is counted once, by its best run."""

from __future__ import annotations

import json
from typing import Sequence

import numpy as np

from ionmd.analysis.point_checks import enters
from ionmd.analysis.run_records import run_labels


SAME_TRAJECTORY = "same_trajectory"
"""Flag of a fit whose series held runs of one trajectory (:func:`same_trajectories`):
each counted once, the others left out."""


NOT_DYNAMICS = ("name", "source", "duration_ps", "discard_ps", "long_below_K",
                "long_duration_ps", "long_discard_ps", "until", "check_every_ps",
                "fit_start_ps", "dump_every", "thermo_every", "restart_every",
                "halt_volume_change", "halt_check_every", "seed",
                "mobile_species", "replicas", "temperatures")
"""Protocol fields (settings.json's ``protocol``) that do not change a run's trajectory up
to its length: what is written and analysed, how long it runs (a longer run of one seed
is the shorter one continued: the same trajectory, not a replica of it), when ``fix halt``
stops it (a run halted early is its twin cut short); the protocol's ``seed`` acts only
through the run's velocity seed, which the key holds itself. A ramp's run length is no
such field: it sets the ramp's rate (:func:`ramp_length_ps`)."""


RAMPS = ("temperature_end", "pressure_end_bar")
"""Protocol fields that ramp the target over the whole run (LAMMPS ``run N start 0 stop N``):
where one is set, the run's planned length is part of its dynamics."""


def trajectory_identity(run: dict) -> str | None:
    """What decides a run's trajectory, as its folder's ``settings.json`` records it (written
    by ``ionmd run`` or a campaign): its starting cell (``structure_hash``), model file
    (``model_hash``), template (its hash; its path only where none is recorded), elements,
    temperature, input version (1 where none is recorded), the seed of its velocities
    (:func:`run_velocity_seed`), the protocol's dynamics (:data:`NOT_DYNAMICS` aside) and,
    for a ramp, its planned length (:func:`ramp_length_ps`); LAMMPS runs them alike to the bit,
    so two such runs are one trajectory. A run without one (by hand): its temperature and
    every D with its interval, which no two independent runs share to the bit. None
    without either."""
    from ionmd.analysis.run_model import folder_settings

    settings = folder_settings(run["run"]) if run.get("run") else {}
    if settings.get("structure_hash") and isinstance(settings.get("protocol"), dict):
        protocol = {k: v for k, v in settings["protocol"].items() if k not in NOT_DYNAMICS}
        if settings.get("template_hash"):   # the file's content, wherever it lies
            protocol.pop("template", None)
        return json.dumps({"protocol": protocol,
                           **{k: settings.get(k) for k in (
                               "temperature_K", "model_hash", "template_hash",
                               "structure_hash", "elements")},
                           "inputs_version": settings.get("inputs_version", 1),
                           "velocity_seed": run_velocity_seed(settings),
                           "ramp_ps": ramp_length_ps(settings)}, sort_keys=True)
    if run.get("diffusion") and run.get("temperature_K") is not None:
        return json.dumps({"temperature_K": run["temperature_K"],
                           "D": [[d.get("species"), d.get("direction"), d.get("D"),
                                  d.get("D_ci95")] for d in run["diffusion"]]}, sort_keys=True)
    return None


def run_velocity_seed(settings: dict) -> int | list:
    """The seed a run's velocities were drawn with: ``velocity_seed`` where settings.json
    records it, else ``seed + replica`` (what a directory written before seeds were
    recorded ran with: ``RunDir.velocity_seed``), so that seed 1 / replica 1 and seed 2 /
    replica 0 are one draw; ``[None, replica]`` where not even the seed is recorded."""
    if settings.get("velocity_seed") is not None:
        return int(settings["velocity_seed"])
    seed, replica = settings["protocol"].get("seed"), settings.get("replica")
    if seed is None or replica is None:
        return [seed, replica]
    return int(seed) + int(replica)


def ramp_length_ps(settings: dict) -> float | None:
    """The planned length of a ramped run (a temperature or pressure ramp: :data:`RAMPS`),
    over which its target moves from start to end (with the time step, in the key's
    protocol, its planned steps): runs of one seed and other lengths ramp at other rates
    and part at once. Its duration at its temperature (the long one below
    ``long_below_K``, as ``Protocol.schedule``); None without a ramp."""
    p = settings["protocol"]
    if all(p.get(k) is None for k in RAMPS):
        return None
    below, temperature = p.get("long_below_K"), settings.get("temperature_K")
    if below is not None and temperature is not None and temperature < below:
        return p.get("long_duration_ps") or p.get("duration_ps")
    return p.get("duration_ps")


def same_trajectories(runs: Sequence[dict]) -> dict[str, tuple[str, str, str]]:
    """The runs of a series that repeat another run's trajectory
    (:func:`trajectory_identity`), each with the run of that trajectory kept (the best:
    :func:`trajectory_run_rank`), why they are one and why that one is kept:
    ``{run: (kept run, why one, why kept)}``. Two campaigns (or
    ``ionmd run``s) with one seed (the default 12345), temperature, structure and settings
    run the same trajectory: counted as two replicas, they would halve its error. The one
    kept is the one with a usable result, then the longest analysed (a longer run of one
    seed holds the shorter one), then the narrowest interval; alike, the first listed."""
    groups: dict[str, list[dict]] = {}
    key_of = {}
    for r in runs:
        key = trajectory_identity(r)
        if key is not None and r.get("run"):
            groups.setdefault(key, []).append(r)
            key_of[str(r["run"])] = key
    kept = {key: max(group, key=trajectory_run_rank) for key, group in groups.items()}
    out = {}
    for r in runs:
        label = str(r.get("run"))
        best = kept.get(key_of.get(label))
        if best is None or str(best["run"]) == label:   # kept (or the kept folder again)
            continue
        what = ("same seed of its velocities, structure, model, temperature and protocol "
                "(their settings.json)" if '"structure_hash"' in key_of[label] else
                "the same D and interval to the bit")
        out[label] = (str(best["run"]), what, why_kept(best, r))
    return out


def trajectory_run_rank(run: dict) -> tuple:
    """How good a run's results are among runs of one trajectory, larger better: a usable
    result (:func:`usable_ds`), the length analysed (``run_length_ps``), the narrowest
    relative interval of its xyz Ds (the widest of them)."""
    widths = [(d["D_ci95"][1] - d["D_ci95"][0]) / abs(d["D"]) for d in usable_ds(run)
              if d["D"]]
    return (bool(usable_ds(run)), float(run.get("run_length_ps") or 0.0),
            -max(widths, default=np.inf))


def usable_ds(run: dict) -> list[dict]:
    """A run's xyz Ds that can enter a fit (:func:`~ionmd.analysis.aggregate.enters`); none
    for a failed run or one not analysed."""
    if (run.get("failure") or {}).get("failed") or run.get("analysis_error"):
        return []
    return [d for d in run.get("diffusion") or [] if d.get("direction") == "xyz"
            and d.get("D") is not None and enters(d["D"], d["D_ci95"])]


def why_kept(best: dict, other: dict) -> str:
    """Why ``best`` stands for a trajectory rather than ``other`` (:func:`trajectory_run_rank`)."""
    (b_use, b_len, b_w), (o_use, o_len, o_w) = trajectory_run_rank(best), trajectory_run_rank(other)
    if b_use and not o_use:
        return "it has a usable result, this run none"
    if b_len > o_len:
        return f"{b_len:g} ps analysed, this run {o_len:g} ps (the same walk, continued)"
    if b_w > o_w:
        return "its interval is narrower"
    return "listed first, the results alike"


def same_trajectory_reason(repeats: str, what: str, kept: str) -> str:
    """Why a run repeating another's trajectory is left out of its series' fits: ``what``
    makes them one, ``kept`` why the other run stands for it (:func:`same_trajectories`)."""
    return (f"the same trajectory as {repeats}: {what}; counted once, as one replica "
            f"(two would halve its error), by that run: {kept}; give each campaign (or "
            f"ionmd run) its own seed to add replicas (seed = ... in a campaign's protocol, "
            f"--set seed=N of ionmd run)")


def same_trajectory_of(name: str, runs: Sequence[dict],
                       repeated: dict[str, tuple[str, str, str]]) -> dict:
    """``same_trajectory``: a sentence naming a series' runs that repeat another's
    trajectory (:func:`same_trajectories`) and what to do; else nothing."""
    if not repeated:
        return {}
    labels = run_labels(runs)
    said = "; ".join(f"{labels.get(run, run)} repeats {labels.get(kept, kept)}, which is kept"
                     for run, (kept, *_) in repeated.items())
    return {SAME_TRAJECTORY: (
        f"{name}: {len(repeated)} of its runs repeat another's trajectory ({said}: the same "
        f"seed, structure, model, temperature and protocol, or the same D to the bit); each "
        f"is counted once, by its run with a usable result, the longest, the others left "
        f"out of the fits: give each campaign (or ionmd "
        f"run) its own seed (seed = ... in a campaign's protocol, --set seed=N of ionmd run) "
        f"to add replicas")}
