"""The analysis settings a user edited in a run folder's ``run.json``
(:data:`~ionmd.protocols.rundir.EDITABLE_RUN_JSON_KEYS`), checked where a piece is launched
and read by the stopping rule.

ionmd keeps those edits at every launch; an edit the analysis cannot use (a negative or
non-numeric ``discard_ps``, a discard that leaves too few frames of the run, a mobile species
the structure does not hold or one named twice) was refused only by the analysis, after the
run's compute was spent. :func:`check_run_json_edits` refuses it before LAMMPS starts,
leaving the folder as it was. A value equal to the protocol's is no edit and is not checked
here (the protocol's own checks cover it).
"""

from __future__ import annotations

import json

import numpy as np

from ionmd.analysis.run_files import RUN_JSON
from ionmd.analysis.run_json_values import discard_problem, mobile_problem
from ionmd.analysis.trajectory import MIN_FRAMES_AFTER_DISCARD
from ionmd.errors import IonmdError
from ionmd.protocols.rundir import read_run_record


def _record(rd) -> dict:
    """``run.json`` as the folder holds it ({} where it has none).

    Raises
    ------
    IonmdError
        If the file is not JSON, or JSON other than an object of keys (a hand edit gone
        wrong), naming where (:func:`~ionmd.protocols.rundir.read_run_record`).
    """
    return read_run_record(rd.path / RUN_JSON)


def protocol_discard_ps(rd) -> float:
    """The discard ionmd writes to ``run.json`` from the protocol (ps)."""
    return float(rd.protocol.schedule(rd.temperature)[1])


def effective_discard_ps(rd) -> float:
    """The discard the analysis of ``rd`` will use: ``run.json``'s (a user's edit) where it
    holds a number >= 0, else the protocol's. The stopping rule's checks read the run
    through the analysis, so their first target follows this discard too."""
    held = _record(rd).get("discard_ps")
    if discard_problem(held) is None:
        return float(held)
    return protocol_discard_ps(rd)


def _frame_times_ps(rd) -> np.ndarray:
    """Times of the frames of ``rd``'s whole run (every ``dump_every`` steps from step 0 to
    its planned end), as the analysis computes them."""
    p = rd.protocol
    return np.arange(0, rd.planned_steps + 1, p.dump_every) * p.timestep_fs * 1e-3


def frames_after_discard(rd, discard_ps: float) -> int:
    """Frames of ``rd``'s whole run the analysis keeps after ``discard_ps``."""
    return int(np.count_nonzero(_frame_times_ps(rd) >= discard_ps - 1e-9))


def _longest_discard_ps(rd) -> float:
    """The longest discard that leaves :data:`MIN_FRAMES_AFTER_DISCARD` frames."""
    times = _frame_times_ps(rd)
    return float(times[-MIN_FRAMES_AFTER_DISCARD]) if len(times) >= MIN_FRAMES_AFTER_DISCARD \
        else 0.0


def _discard_problem(rd, value) -> str | None:
    """What is wrong with an edited ``discard_ps`` (None: the analysis can use it): the
    analysis's own rule (:func:`~ionmd.analysis.run_json_values.discard_problem`), then the
    frames it leaves of the planned run."""
    why = discard_problem(value)
    if why:
        return why
    kept = frames_after_discard(rd, float(value))
    if kept < MIN_FRAMES_AFTER_DISCARD:
        length = rd.planned_steps * rd.protocol.timestep_fs / 1000.0
        return (f"leaves {kept} frame(s) of this {length:g} ps run (the analysis needs "
                f">= {MIN_FRAMES_AFTER_DISCARD})")
    return None


def _mobile_problem(rd, value) -> str | None:
    """What is wrong with an edited ``mobile_species`` (None: the analysis can use it)."""
    return mobile_problem(value, rd.elements)


def run_json_edit_problems(rd) -> list[str]:
    """One sentence per edited analysis setting of ``rd``'s ``run.json`` that the analysis
    could not use, each naming the file, the key, the value and what to write instead;
    [] where there is none."""
    held = _record(rd)
    where = rd.path / RUN_JSON
    problems = []
    discard = held.get("discard_ps")
    if "discard_ps" in held and discard != protocol_discard_ps(rd):
        why = _discard_problem(rd, discard)
        if why:
            problems.append(
                f"{where}: \"discard_ps\": {json.dumps(discard)} {why}; write a number of ps "
                f"from 0 to {_longest_discard_ps(rd):g} (the protocol's is "
                f"{protocol_discard_ps(rd):g}), or delete the key to use the protocol's")
    mobile = held.get("mobile_species")
    if "mobile_species" in held and mobile != list(rd.protocol.mobile_species):
        why = _mobile_problem(rd, mobile)
        if why:
            problems.append(
                f"{where}: \"mobile_species\": {json.dumps(mobile)} {why}; write a list of "
                f"the structure's elements, each once, e.g. "
                f"{json.dumps(list(rd.protocol.mobile_species))} (the protocol's), or delete the "
                f"key to use the protocol's")
    return problems


def check_run_json_edits(rd) -> None:
    """Refuse to launch ``rd`` where its ``run.json`` holds an edit the analysis could not
    use (:func:`run_json_edit_problems`): before any file of the folder is changed.

    Raises
    ------
    IonmdError
        Naming the file, each bad key and value, and what to write instead.
    """
    problems = run_json_edit_problems(rd)
    if problems:
        raise IonmdError("; ".join(problems) + "; nothing was run or changed")
