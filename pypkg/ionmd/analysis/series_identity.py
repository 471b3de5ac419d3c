"""Which runs are one series (replicas of one structure under one model and of one cell:
:func:`series_key`), what the series is called (:func:`series_names`), and what a series'
record says where its runs may not be replicas after all (other potentials, structures or
charges: the ``mixed_*`` sentences of :func:`series_record`)."""

from __future__ import annotations

from typing import Sequence

from ionmd.analysis.run_inputs import cell_formula
from ionmd.analysis.run_records import run_labels


MIXED_CHARGES = "mixed_charges"
"""Flag of a sigma fit whose runs' sigmas take different charges (their ``charges``)."""


MIXED_SETTINGS = "mixed_settings"
"""Flag of a fit whose runs record no model but ran with different potentials (as their
logs echo them): they are fitted as one series, which they may not be."""


MIXED_STRUCTURES = "mixed_structures"
"""Flag of a fit whose runs record different starting structures (their ``structure_hash``):
runs of other cells or positions under one name (two campaigns' ``LLZO``), fitted as one
series, which they may not be."""


UNKNOWN_MODEL = "model-unknown"
"""The series label of runs that record no model (run by hand), beside runs that do."""


def series_key(results: dict) -> tuple:
    """What makes runs replicas of one series: their structure, their model, its name and
    its ``model_hash`` (its identity, one for every export of a checkpoint:
    :mod:`ionmd.export.model_identity`; None: not recorded), and their cell's formula (its atoms of each
    element; None where the run could not be read). The model: two models a campaign names
    apart are two series (as ``ionmd sweep collect`` fits them) even where one file is a
    copy of the other, and two runs' ``model.pt`` of other contents are two models. The
    cell: runs of folders that share a name (``proj1/LiCl/T1300``, ``proj3/LiCl/T1300``)
    of 189 and 204 atoms are two materials, not replicas of one."""
    return (results.get("structure"), results.get("model"), results.get("model_hash"),
            results.get("formula") or cell_formula(results.get("composition")))


def series_keys(results: Sequence[dict]) -> list[tuple | None]:
    """:func:`series_key` of each of ``results`` (None: no structure, a run whose run.json
    could not be read), a run of unknown cell (not analysed) put with the runs of its
    structure and model where they are of one cell, and a folder's ``model_hash`` that is
    its model file's digest (written before identities were) read as the identity of the
    runs that record that digest as their ``model_file_hash``
    (:func:`~ionmd.analysis.run_model.identities_of_file_digests`: one series once the file
    is moved, as while it is in place)."""
    from ionmd.analysis.run_model import identities_of_file_digests

    identities = identities_of_file_digests(results)
    keys = [series_key(r) if r.get("structure") is not None else None for r in results]
    keys = [k[:2] + (identities.get(k[2], k[2]),) + k[3:] if k is not None else None
            for k in keys]
    cells: dict[tuple, set] = {}
    for k in keys:
        if k is not None and k[3] is not None:
            cells.setdefault(k[:3], set()).add(k[3])
    return [k[:3] + (next(iter(cells[k[:3]])),)
            if k is not None and k[3] is None and len(cells.get(k[:3], ())) == 1 else k
            for k in keys]


def series_names(results: Sequence[dict]) -> dict[tuple, str]:
    """The name of each series (:func:`series_keys`) of ``results``: its structure where
    that structure's runs are of one model and one cell (as before either was told apart),
    its cell's formula added in brackets where they are of several (``LiCl[Li81Cl108]``),
    then ``/<model>`` where they are of several models (as ``ionmd sweep collect`` names
    them), the model's hash added where two models of a structure share a name."""
    keys = list(dict.fromkeys(k for k in series_keys(results) if k is not None))
    names: dict[tuple, str] = {}
    for structure in dict.fromkeys(k[0] for k in keys):
        mine = [k for k in keys if k[0] == structure]
        models = list(dict.fromkeys(k[1:3] for k in mine))
        cells = {k[3] for k in mine}
        for key in mine:
            _, model, digest, formula = key
            name = structure
            if len(cells) > 1:
                name += f"[{formula or 'cell unknown'}]"
            if len(models) > 1:
                shared = sum(m[0] == model for m in models) > 1     # one name, other files
                name += (f"/{model or UNKNOWN_MODEL}"
                         + (f"@{digest[:8] if digest else 'no-hash'}" if shared else ""))
            names[key] = name
    return names


def split_cells_notes(results: Sequence[dict], names: dict[tuple, str]) -> list[str]:
    """A note for each structure name whose runs are of several cells (other atoms of each
    element: other materials, whatever their folders are named): they are fitted as a series
    each, named by :func:`series_names`; the note names each cell's runs."""
    keys = series_keys(results)
    notes = []
    for structure in dict.fromkeys(k[0] for k in keys if k is not None):
        mine = [(k, r) for k, r in zip(keys, results) if k is not None and k[0] == structure]
        cells = list(dict.fromkeys(k[3] for k, _ in mine))
        if len(cells) < 2:
            continue
        labels = run_labels([r for _, r in mine])
        said = "; ".join(
            f"{cell or 'cell unknown'}: "
            + ", ".join(labels.get(str(r.get("run")), str(r.get("run")))
                        for k, r in mine if k[3] == cell)
            for cell in cells)
        series = ", ".join(dict.fromkeys(names[k] for k, _ in mine))
        what = ("cells of other sizes of one composition, whose finite-size effects differ "
                "(a size study wants them apart; an Arrhenius fit of one size each)"
                if None not in cells and len({_reduced(c) for c in cells}) == 1
                else "not replicas of one material")
        notes.append(f"{structure}: its runs are of {len(cells)} different cells ({said}): "
                     f"{what}, so fitted apart as {series}; give each "
                     f"cell its own structure name ('structure' in run.json) to name "
                     f"them yourself")
    return notes


def _reduced(formula: str) -> str:
    """A cell's formula reduced (``Li54Cl27`` -> ``Li2Cl``), pymatgen's."""
    from pymatgen.core import Composition

    return Composition(formula).reduced_formula


def series_record(name: str, runs: Sequence[dict]) -> dict:
    """A series' identity for ``summary.json``: ``structure``, ``model`` (None: not
    recorded), ``model_hash``, its cell (``formula``, ``composition``, ``n_atoms``; None
    where none of its runs could be read), ``runs`` (their folders) and, where runs that
    record no model echo different potentials in their logs, ``mixed_settings`` (a sentence
    saying so: they are fitted together as if replicas, which they may not be); where they
    start from different structures, ``mixed_structures`` (:func:`mixed_structures_of`)."""
    structure, model, digest, formula = series_keys(runs)[0]
    cell = next((r for r in runs if r.get("composition")), {})
    rec = {"structure": structure, "model": model, "model_hash": digest, "formula": formula,
           "composition": cell.get("composition"), "n_atoms": cell.get("n_atoms"),
           "runs": [r.get("run") for r in runs]}
    potentials = runs_by(runs, lambda r: r.get("potential"))
    if len(potentials) > 1:
        said = "; ".join(f"{group}: {pot!r}" for pot, group in potentials.items())
        rec["mixed_settings"] = (
            f"{name}: its runs record no model, and their logs echo different potentials "
            f"({said}); they are fitted as one series, as if replicas of one model: give each "
            f"run its model ('model' in its run.json) to fit each model's runs apart, or "
            f"analyse them apart")
    rec.update(mixed_structures_of(name, runs))
    rec.update(mixed_charges_of(name, runs))
    return rec


def runs_by(runs: Sequence[dict], key_of) -> dict[str, str]:
    """The series' runs grouped by ``key_of(run)`` (runs where it is empty left out), each
    group its runs' short names (:func:`run_labels`) joined by commas, in order met: what
    the ``mixed_*`` sentences list."""
    groups: dict[str, list[str]] = {}
    for r in runs:
        key = key_of(r)
        if key:
            groups.setdefault(key, []).append(str(r.get("run")))
    labels = run_labels(runs)
    return {key: ", ".join(labels.get(run, run) for run in group)
            for key, group in groups.items()}


def mixed_structures_of(name: str, runs: Sequence[dict]) -> dict:
    """``mixed_structures``: where a series' runs record different starting structures
    (their results' ``structure_hash``, from ``settings.json``), a sentence naming each
    structure's runs and what to do; else nothing. One ``ionmd run`` or campaign starts all
    runs of a structure from one cell (a disordered file ordered once), so several are runs
    of other structures given one name (two campaigns' ``LLZO`` of other cells), unless
    orderings of one file were made apart (``--order-seed`` per output) to be averaged.
    Runs that record none (by hand) are not counted."""
    by_hash = runs_by(runs, lambda r: r.get("structure_hash"))
    if len(by_hash) < 2:
        return {}
    said = "; ".join(f"{digest}: {group}" for digest, group in by_hash.items())
    return {"mixed_structures": (
        f"{name}: its runs start from {len(by_hash)} different structures (the "
        f"structure_hash their settings.json record: {said}); they are fitted as one "
        f"series, as if replicas of one structure: give each structure its own name "
        f"(--name of ionmd run, name = ... in a campaign's structure entry) or analyse "
        f"them apart; orderings of one disordered file made apart (another --order-seed "
        f"per output) to be averaged may stay together")}


def mixed_charges_of(name: str, runs: Sequence[dict]) -> dict:
    """``mixed_charges``: where a series' runs' sigmas take different charges (run.json's,
    or --charges: their results' ``charges``), a sentence naming each set's runs (its sigma
    T fit mixes them; D takes no charges); else nothing."""
    by_charges = runs_by(runs, lambda r: r.get("charges") and ",".join(
        f"{e}={q:g}" for e, q in sorted(r["charges"].items())))
    if len(by_charges) < 2:
        return {}
    said = "; ".join(f"{text}: {group}" for text, group in by_charges.items())
    return {"mixed_charges": (
        f"{name}: its runs' sigmas take different charges ({said}): its sigma T fit mixes "
        f"them (D is not affected); give every run the same (--charges, 'charges' in "
        f"run.json) or analyse them apart")}
