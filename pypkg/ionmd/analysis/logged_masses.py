"""A hand run's type map checked against the masses its logs' ``mass`` commands set
(:func:`refuse_type_map_of_other_masses`): a data file without a Masses section leaves
them the only masses there are, and a map naming for a type another element than the
one whose mass it got was taken silently (as fc11f17 found for a data file's Masses)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ionmd.analysis.atom_elements import _refuse_masses_of_other_elements


def logged_masses(echoed: dict[str, dict]) -> dict[int, float]:
    """``{type: mass}`` the logs' ``mass`` commands set (``echoed``: each log's
    :func:`~ionmd.lammps.echoed_input.md_settings`, in run order: a later log's win)."""
    masses: dict[int, float] = {}
    for settings in echoed.values():
        masses.update(settings.get("masses") or {})
    return masses


def refuse_type_map_of_other_masses(path: Path, meta: dict, echoed: dict[str, dict]) -> None:
    """Refuse the type map the run is read with (given: ``--type-map``, ``run.json``'s
    ``type_map``; else the logs' ``pair_coeff * * El1 El2``) where it names for a type
    another element than the one whose mass the logs' ``mass`` commands give it (types
    swapped: ``1=Li,2=Cl`` beside ``mass 1 35.45``), as for a data file's Masses
    (:func:`~ionmd.analysis.atom_elements.elements_and_masses`). A map that is no
    ``{type: element}`` is left to its own check (``run.json``'s)."""
    masses = logged_masses(echoed)
    if not masses:
        return
    given = meta.get("type_map")
    if given:
        if not isinstance(given, dict):
            return
        type_map = {}
        for key, element in given.items():
            if not (str(key).isascii() and str(key).isdigit()) or not isinstance(element, str):
                return                      # refused with its own message after
            type_map[int(key)] = element
    else:
        found = {tuple(s["elements"]) for s in echoed.values() if s.get("elements")}
        if len(found) != 1:
            return
        type_map = dict(enumerate(found.pop(), start=1))
    types = np.array(sorted(set(masses) & set(type_map)))
    if types.size:
        logs = ", ".join(echoed)
        _refuse_masses_of_other_elements(
            f"{path}: {logs} ('mass' commands)", types,
            np.array([masses[t] for t in types.tolist()]), type_map)
