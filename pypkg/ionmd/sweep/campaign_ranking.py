"""A campaign's ``order_model_rank = N``: each model re-ranks the N lowest-Ewald
arrangements of a structure by its own energy (as ``ionmd run --order ewald
--order-model-rank N``: :func:`ionmd.screen.ordering_rank.rank_by_model`) and its runs start
from the one it keeps, so two models may run two cells (two series).

The energies are evaluated once per (structure, model), by the first campaign command that
reads the campaign (``plan``, ``submit``, ``status``, ``collect``; on the machine it runs
on: SLURM workers never read the campaign file, they run the data file ``submit`` wrote),
and kept in ``<output>/<structure>/<model>/campaign_ordering_rank.json`` (:data:`RANKING_FILE`:
the series' cache, a file of its own: ``ionmd run``'s record of its runs' ranking,
``ordering_rank.json``, is in the protocol's folder below, and either one overwrote the
other when both were ``<model>/ordering_rank.json``) with what they depend on
(:func:`cache_key`), one entry per key (``{"entries": [...]}``): two campaigns whose
protocols order in other supercells (other candidates) write into one output folder, and
each reads its own entry; with one entry, each replaced the other's and ranked again, and
was refused where the other's runs had started. A single record (files written before)
is read as one entry; a cache written before it had its own name
(:data:`OLD_RANKING_FILE`, with a ``campaign_key``) is read where there is no other.
Ranking is done holding a lock beside that file, so that two commands started together
rank once (the second waits, then reads the file).

A ranking whose key changed (another N, order setting, structure file or model) is done
again; where the series (the runs of the same supercell) already has runs of another
cell, the campaign is refused naming them: a written run never changes its starting cell
(structure_hash). The refused ranking is kept too, under its key, in
:data:`REFUSED_FILE` beside the cache: each later command checks it against the runs again
(refused, naming them, while they are there) without ranking again (each ``sweep status``
re-ranked); once the runs are gone it is taken as any cached ranking.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ionmd.errors import IonmdError
from ionmd.file_locks import flock_if_supported
from ionmd.structures.ordering_rank_note import RANKING_RECORD, nothing_to_rank
from ionmd.sweep.campaign_problems import Problems

RANKING_FILE = "campaign_ordering_rank.json"
OLD_RANKING_FILE = RANKING_RECORD
"""The cache's name before it had its own (``ionmd run`` writes its record there too)."""
LOCK_FILE = ".ordering_rank.lock"
REFUSED_FILE = "campaign_ordering_rank_refused.json"
"""Rankings refused because the series' runs started from another cell (one entry per key,
as :data:`RANKING_FILE`), so that the refusal is said again without ranking again."""


@dataclass
class Ranked:
    """What one model's ranking kept for one structure."""

    atoms: object                 # ase.Atoms: the kept arrangement, its notes in info
    cell: object                  # its run cell
    ordering: str                 # the ordering line (ionmd run prints it), ranking included
    record: dict                  # the ranking as ordering_rank.json holds it


def rank_series(errors: Problems, structures, models, output: Path, protocol) -> None:
    """Each structure with ``order_model_rank`` > 1 x each model: its kept cell
    (``StructureEntry.ranked``), read from the series' cache or ranked (and cached);
    problems (a model that cannot rank them, a choice that differs from the one the
    series' runs started from) go to ``errors`` on the structure's line."""
    for s in structures:
        if s.model_rank <= 1 or s.loaded is None or not s.loaded.candidates:
            continue
        for m in models:
            try:
                s.ranked[m.folder] = _ranked(s, m, output, protocol)
            except IonmdError as exc:
                errors.items.append((s.line, f"structure {s.name!r}, model {m.name!r}: "
                                             f"{exc}"))


def cache_key(s, m, protocol) -> dict:
    """What a ranking depends on: the structure file's bytes, the order settings, the cell
    they are ordered in (the protocol's supercell), N and the model's identity
    (:func:`ionmd.export.model_identity.model_identity`: any export of one model)."""
    from ionmd.export.model_identity import model_identity
    from ionmd.structures import example_path

    path = Path(s.source)       # else a shipped example, by its name
    data = path.read_bytes() if path.is_file() else example_path(s.source).read_bytes()
    return {"structure_sha256": hashlib.sha256(data).hexdigest(),
            "order": {k: v for k, v in sorted(s.order.items()) if k != "order_model_rank"},
            "supercell": protocol.supercell, "order_model_rank": s.model_rank,
            "model_identity": model_identity(m.path)}


def _ranked(s, m, output: Path, protocol) -> Ranked:
    folder = output / s.name / m.folder
    key = cache_key(s, m, protocol)
    cached = _cached(folder, key, s, protocol)
    if cached is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / LOCK_FILE):
        cached = _cached(folder, key, s, protocol)     # ranked while this one waited
        if cached is not None:
            return cached
        from ionmd.protocols.run_settings import replace_json

        refused = _cached(folder, key, s, protocol, REFUSED_FILE)
        made = refused or _rank(s, m, key, folder, protocol)
        record, plain = made.record, _plain(key)
        entries = _entries(folder)
        try:
            _refuse_other_cell(folder, key, made, entries)
        except IonmdError:
            if refused is None:         # said again by later commands, not ranked again
                replace_json(folder / REFUSED_FILE, {"entries": [
                    e for e in _entries(folder, REFUSED_FILE)
                    if e["campaign_key"] != plain] + [record]})
            raise
        replace_json(folder / RANKING_FILE, {"entries": [
            e for e in entries if e["campaign_key"] != plain] + [record]})
        return made


def _rank(s, m, key: dict, folder: Path, protocol) -> Ranked:
    """The model's ranking of the structure's candidates (its energies: minutes), its
    record keyed by ``key``."""
    from ionmd.screen.ordering_rank import rank_by_model

    print(f"{s.name} x {m.name}: ranking {len(s.loaded.candidates)} lowest-Ewald "
          f"arrangements by the model's energy ({len(s.loaded.structure)} atoms each; "
          f"kept in {folder / RANKING_FILE})", file=sys.stderr)
    kept, ranking = rank_by_model(s.loaded, m.path, s.model_rank)
    record = {**ranking.record(), "campaign_key": key}
    made = _made(s, kept, record, protocol)
    record["run_cell_hash"] = _hash(made.cell)
    return made


def _plain(value):
    """``value`` as read back from JSON (tuples as lists), to compare with a cached key."""
    return json.loads(json.dumps(value))


def _cached(folder: Path, key: dict, s, protocol, name: str = RANKING_FILE) -> Ranked | None:
    """The ranking kept in ``folder`` (its file ``name``: the cache, or the refused
    rankings) under ``key`` where the candidate it names still gives the cell it recorded
    (ionmd's ordering search unchanged); else None."""
    from ionmd.screen.ordering_rank import ModelRanking, kept_by_ranking

    plain = _plain(key)
    record = next((e for e in _entries(folder, name) if e["campaign_key"] == plain), None)
    if record is None:
        return None
    try:
        ranking = ModelRanking.from_record(record)
    except (KeyError, TypeError, ValueError):
        return None
    if not 1 <= ranking.chosen_rank <= len(s.loaded.candidates):
        return None
    made = _made(s, kept_by_ranking(s.loaded, ranking), record, protocol)
    return made if _hash(made.cell) == record.get("run_cell_hash") else None


def _entries(folder: Path, name: str = RANKING_FILE) -> list[dict]:
    """The cached rankings in ``folder``, one per key: :data:`RANKING_FILE`'s ``entries``,
    or its single record (as written before it held several); where it is not there, one
    written before the cache had its own name (:data:`OLD_RANKING_FILE`), only with a
    ``campaign_key``: without one it is an ``ionmd run``'s record of then, of its runs, not
    the campaign's. Entries without a key (damaged) are left out. ``name``
    :data:`REFUSED_FILE`: the refused rankings' entries."""
    if (folder / name).exists() or name != RANKING_FILE:
        record = _read_record(folder / name)
    else:
        record = _read_record(folder / OLD_RANKING_FILE)
    if record is None:
        return []
    found = record.get("entries", [record])
    if not isinstance(found, list):
        return []
    return [e for e in found if isinstance(e, dict) and isinstance(e.get("campaign_key"), dict)]


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None         # none, or damaged: ranked again (and checked against the runs)
    return record if isinstance(record, dict) else None


def _made(s, kept, record: dict, protocol) -> Ranked:
    """The kept arrangement as the runs take it: atoms with ``ionmd run``'s notes, and the
    run cell."""
    from ionmd.protocols.plan import loading_notes
    from ionmd.protocols.prepare import as_atoms, run_cell
    from ionmd.protocols.rundir import STRUCTURE_NOTES

    atoms = as_atoms(kept.structure)
    atoms.info[STRUCTURE_NOTES] = loading_notes(kept, s.source)
    return Ranked(atoms=atoms, cell=run_cell(protocol, atoms, kept.in_run_cell),
                  ordering=kept.ordering, record=record)


def _hash(cell) -> str:
    from ionmd.protocols.run_settings import structure_hash

    return structure_hash(cell)


def _refuse_other_cell(folder: Path, key: dict, made: Ranked, entries: list[dict]) -> None:
    """Refuse a new ranking whose kept cell is not the one the series' runs started from
    (the runs in ``folder`` of the key's supercell: another supercell orders other
    candidates, another series), naming the runs and what changed since (the key of the
    cached ranking that kept their cell)."""
    now = _hash(made.cell)
    runs, cells = [], set()
    for settings in sorted(folder.glob("*/T*K/r*/settings.json")):
        try:
            recorded = json.loads(settings.read_text())
            cell = recorded.get("structure_hash")
        except (OSError, ValueError, AttributeError):
            continue                # half-written: no run of a cell yet
        if cell is not None and cell != now and _same_supercell(recorded, key):
            runs.append(settings.parent)
            cells.add(cell)
    if not runs:
        return
    same = [e for e in entries
            if e["campaign_key"].get("supercell") == _plain(key["supercell"])]
    before = next((e for e in reversed(same) if e.get("run_cell_hash") in cells),
                  same[-1] if same else None)
    old = (before or {}).get("campaign_key")
    if isinstance(old, dict):
        changed = [f"{k}: {old.get(k)!r} then, {v!r} now"
                   for k, v in _plain(key).items() if old.get(k) != v]
        why = "; ".join(changed) or "the same settings"
        was = (f"the ranking its runs started from kept Ewald rank "
               f"{before.get('chosen_ewald_rank')} ({why})")
    else:
        was = f"no readable {RANKING_FILE} says which ranking its runs started from"
    back = (f" (order_model_rank = {old['order_model_rank']})" if isinstance(old, dict)
            and old.get("order_model_rank") != key["order_model_rank"] else "")
    shown = [str(p) for p in runs[:5]] + ([f"... ({len(runs)} in all)"]
                                                 if len(runs) > 5 else [])
    raise IonmdError(
        f"the model's ranking now keeps Ewald rank {made.record.get('chosen_ewald_rank')}, "
        f"another cell than the runs of {folder} started from; {was}. A written run never "
        f"changes its starting cell (its results would mix two); revert the change{back}, "
        f"or give the changed campaign another `output` folder. Runs: " + ", ".join(shown))


def _same_supercell(settings: dict, key: dict) -> bool:
    """Whether a run (its settings.json) was ordered in the key's supercell; a run that
    does not say is taken as one (refused rather than mixed)."""
    protocol = settings.get("protocol")
    if not isinstance(protocol, dict) or "supercell" not in protocol:
        return True
    return _plain(protocol["supercell"]) == _plain(key["supercell"])


@contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` for the block, waiting for another holder (a ranking
    takes minutes, the waiter then reads its result); unlocked where the file system has no
    locks."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        flock_if_supported(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ordering_lines(campaign) -> list[str]:
    """One line per (structure, model) a model ranked: its ordering, as ``ionmd run``
    prints it (the Ewald rank kept, the spread), and its cell; one per structure with
    ``order_model_rank`` > 1 and nothing to order, saying so (as ``ionmd run``'s note)."""
    out = []
    for s in campaign.structures:
        if s.model_rank > 1 and s.loaded is not None and not s.loaded.candidates:
            out.append(f"{s.name}: " + nothing_to_rank(f"order_model_rank = {s.model_rank}",
                                                       "the runs start from the file's own cell"))
        for m in campaign.models:
            kept = s.ranked.get(m.folder)
            if kept is not None:
                out.append(f"{s.name} x {m.name}: partial occupancies ordered "
                           f"({kept.ordering}): {len(kept.cell)} atoms, "
                           f"{kept.cell.get_chemical_formula()}")
    return out


__all__ = ["LOCK_FILE", "OLD_RANKING_FILE", "RANKING_FILE", "REFUSED_FILE", "Ranked",
           "cache_key", "ordering_lines", "rank_series"]
