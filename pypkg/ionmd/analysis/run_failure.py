"""The failure post-mortem of one run directory: :func:`failures_of` runs
:func:`ionmd.analysis.failure.detect_failures` on the run's frames and logs and adds the
failure its ``status.json`` records (:func:`with_recorded_failure`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ionmd.analysis.failure import (FailureEvent, FailureReport, detect_failures,
                                    held_targets, temperature_at, target_at)
from ionmd.analysis.framework import framework_species
from ionmd.analysis.run_inputs import check_mobile_present, read_logs, run_frames
from ionmd.analysis.run_spec import RunSpec


def failures_of(spec: RunSpec, frames=None, logs=None, **kwargs) -> FailureReport:
    """Failure report of one run directory (reads its raw frames, unless given as
    :func:`~ionmd.analysis.trajectory.read_frames` output, and its logs, unless given as
    :func:`~ionmd.analysis.run_inputs.read_logs` output: read here, they must have a Step
    column)."""
    frames, elements, masses = frames or run_frames(spec)
    check_mobile_present(spec, elements)   # else the mobile ions would count as framework
    thermo, texts = logs or read_logs(spec)
    framework = framework_species(elements, spec.mobile_species, _framework_charges(spec, elements))
    report = detect_failures(steps=frames.steps, timestep_fs=spec.timestep_fs,
                             positions=frames.positions, boxes=frames.boxes, elements=elements,
                             masses=masses, framework=framework, thermo=thermo, log_text=texts,
                             log_dir=spec.path,
                             target_temperature_K=spec.temperature_K,
                             temperature_end_K=spec.temperature_end_K,
                             ramp_steps=(spec.run_status or {}).get("planned_steps"),
                             dump_lost=getattr(frames, "atoms_lost", None),
                             held_targets=_held_targets(spec, texts), **kwargs)
    return with_recorded_failure(report, spec, thermo)


def _held_targets(spec: RunSpec, texts: list[str]) -> list[tuple[int, int, float]]:
    """The constant thermostat targets the logs' runs held (:func:`held_targets`), the
    logs named as :func:`~ionmd.analysis.run_inputs.read_logs` read them."""
    from ionmd.lammps.echoed_input import logs_blocks

    names = [str(p) for p in spec.logs if p in spec.log_text or p.is_file()]
    if len(names) != len(texts):        # texts not of these logs (given by the caller)
        names = [f"log.{k}" for k in range(len(texts))]
    return held_targets(logs_blocks(dict(zip(names, texts))))


def _framework_charges(spec: RunSpec, elements: np.ndarray) -> dict[str, float]:
    """The run's charges; where they leave a species out (an XDATCAR analysed without
    --charges), pymatgen's oxidation-state guess for the composition, so that the framework
    check still knows which species are cations (only that check uses the guess: sigma
    needs the charges given)."""
    present = sorted(set(elements.tolist()))
    if all(e in spec.charges for e in present):
        return spec.charges
    from ionmd.structures.charges import guess_oxidation_states

    counts = {e: int((elements == e).sum()) for e in present}
    return {**guess_oxidation_states(counts), **spec.charges}


def with_recorded_failure(report: FailureReport, spec: RunSpec,
                          thermo: dict | None = None) -> FailureReport:
    """``report`` plus the failure LAMMPS stopped an ionmd run for, as its ``status.json``
    records it (``fix halt`` on the volume with the protocol's own limit, lost atoms, a
    non-finite model output), where the post-mortem did not find that mode: a run halted
    at a 4 % volume limit has no 50 % change for the post-mortem to see, and was analysed
    as if it had not failed (its transport in the fits).

    The event is dated as the post-mortem dates its own (:func:`recorded_event`): its
    temperature is the one the run's thermo rows (``thermo``) printed at or last before the
    step, None (unknown) without them; status.json records only the thermostat's target
    there, which was reported as the temperature (a run blowing up during a ramp is far
    above it)."""
    st = spec.run_status or {}
    if st.get("state") != "failed" or st.get("resumable") or "failed_step" not in st:
        return report
    mode = st.get("failure_mode") or (
        "volume_change" if "volume" in st.get("reason", "") else "lost_atoms")
    step = int(st["failed_step"])
    found = [e for e in report.events if e.mode == mode]
    if found and mode == "lost_atoms" and found[0].step > step:
        # lost at the setup of a resumed piece: the run restarted from step `step` (the
        # restart file's, which status.json read), while the logs' last rows before the
        # error are those a killed earlier piece printed after it
        return _dated_at(report, found[0], step, spec.timestep_fs, st)
    if found:
        return report
    event = recorded_event(report, spec, mode, step, thermo)
    return replace(report, events=sorted(report.events + [event], key=lambda e: e.step))


def recorded_event(report: FailureReport, spec: RunSpec, mode: str, step: int,
                   thermo: dict | None) -> FailureEvent:
    """The failure status.json records at ``step``, dated as
    :func:`~ionmd.analysis.failure.detect_failures` dates the post-mortem's (``report``'s)
    events: its time from the same origin (the run's first frame or row, not step 0: where
    they began at step 5000, the recorded event was 5 ps (at 1 fs) later than a post-mortem
    event at the same step), its temperature the thermo's there (None where no row
    printed one: unknown, not the target), its target the ramp's at that step (status.json's
    own where the run's ramp is not known)."""
    st = spec.run_status or {}
    dt_ps = spec.timestep_fs * 1e-3
    first_step = report.run_end_step - int(round(report.run_end_ps / dt_ps)) if dt_ps > 0 else 0
    target = target_at(step, spec.temperature_K, spec.temperature_end_K, st.get("planned_steps"))
    if target is None:
        target = st.get("failed_temperature_K")
    return FailureEvent(mode=mode, step=step, time_ps=(step - first_step) * dt_ps,
                        temperature_K=temperature_at(step, thermo or {}),
                        target_temperature_K=target,
                        detail=st.get("reason", "stopped by LAMMPS"))


def _dated_at(report: FailureReport, event: FailureEvent, step: int, timestep_fs: float,
              status: dict) -> FailureReport:
    """``report`` with ``event`` moved to ``step`` (with the temperatures status.json
    records there), and the run ending there: what the logs show after it was abandoned."""
    back_ps = (event.step - step) * timestep_fs * 1e-3
    def recorded(key, otherwise):
        return otherwise if status.get(key) is None else status[key]

    dated = replace(event, step=step, time_ps=event.time_ps - back_ps,
                    temperature_K=recorded("temperature_now_K", event.temperature_K),
                    target_temperature_K=recorded("failed_temperature_K",
                                                  event.target_temperature_K))
    events = [dated] + [e for e in report.events if e is not event and e.step <= step]
    cut_ps = max(0, report.run_end_step - step) * timestep_fs * 1e-3
    return replace(report, events=sorted(events, key=lambda e: e.step),
                   run_end_step=min(report.run_end_step, step), run_end_ps=report.run_end_ps - cut_ps)
