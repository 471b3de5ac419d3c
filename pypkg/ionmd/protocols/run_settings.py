"""The settings record of a run folder (``settings.json``): whether a folder is reopened for
the same run or refused for another (:func:`settings_to_keep`, :func:`reopen_with_settings`;
an older folder resumes as it started, :func:`_as_recorded`), what a killed creation left
(:func:`clear_unfinished_creation`), the digests and seeds the record holds
(:func:`structure_hash`, :func:`model_hashes`, :func:`file_hash`, :func:`velocity_seed`),
the atomic write every JSON file of a run folder gets (:func:`replace_json`) and the read
that refuses one damaged (:func:`read_folder_json`, :class:`DamagedRunFile`; a
settings record missing keys: :func:`read_run_settings`).

A run folder's model is recorded as ``model_hash``, the model's identity
(:func:`ionmd.export.model_identity.model_identity`: one for every export of one checkpoint,
so a re-exported file resumes its runs), and ``model_file_hash``, the digest of the file's
bytes it last ran with. A folder written before identities were recorded holds the bytes'
digest as ``model_hash``: it reopens with that file (and is then recorded anew), or with
another export of it while the file it recorded is still where it was."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
from pathlib import Path

import numpy as np
from ase import Atoms

from ionmd import strict_json
from ionmd.analysis.run_files import SETTINGS
from ionmd.errors import IonmdError
from ionmd.export.model_identity import (file_digest, identity_of_recorded_file,
                                         model_identity)
from ionmd.strict_json import nonfinite_to_null

DATA = "struct.data"


class DamagedRunFile(IonmdError, ValueError):
    """A run folder's JSON file holds no JSON object."""


def read_folder_json(f: Path) -> dict:
    """The JSON object in the run folder's file ``f``, ``{}`` where it is not there.

    Raises
    ------
    DamagedRunFile
        (an IonmdError and a ValueError, as json.loads' error was, which callers that
        go on without the file catch) If the file holds no JSON object (ionmd writes it
        whole, so it was cut short or edited by hand: a traceback before, which stopped
        ``sweep status``, ``submit`` and ``collect`` over every run), naming it and how to
        go on.
    """
    if not f.is_file():
        return {}
    try:
        data = json.loads(f.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        why = f"is not JSON ({exc})"
    else:
        if isinstance(data, dict):
            return data
        why = f"holds a JSON {type(data).__name__}, not an object"
    raise DamagedRunFile(f"{f} {why}: ionmd writes it whole, so it was cut short (a copy "
                         f"interrupted, a full disk outside ionmd) or edited by hand; restore "
                         f"it from a copy of the run folder, or move the run folder away to "
                         f"run it again")


RUN_KEYS = ("protocol", "temperature_K", "replica", "model", "structure", "elements")
"""The ``settings.json`` keys every run folder has had, which reopening it reads."""


def read_run_settings(folder: Path) -> dict:
    """The run folder's ``settings.json``, with every key of :data:`RUN_KEYS`.

    Raises
    ------
    DamagedRunFile
        If the file holds no JSON object (:func:`read_folder_json`), or valid JSON that
        lacks keys every run folder has (a hand edit, a file of another program; a
        KeyError traceback before), naming the folder, the keys and what to do.
    """
    f = folder / SETTINGS
    settings = read_folder_json(f)
    missing = [k for k in RUN_KEYS if k not in settings]
    if not missing and isinstance(settings["protocol"], dict):
        return settings
    what = (f"lacks the key(s) {', '.join(missing)}" if missing else
            f"has a protocol that is no JSON object (a JSON {type(settings['protocol']).__name__})")
    raise DamagedRunFile(f"{f} {what}, which every run folder's settings hold (ionmd writes "
                         f"them all: it was edited by hand or written by another program); "
                         f"restore it from a copy of the run folder {folder}, or move that "
                         f"folder away to run it again")


def replace_json(path: Path, data: dict) -> None:
    """Replace ``path`` atomically with ``data``: a temporary file, fsync, rename, so that
    a killed writer or a full disk leaves the old file intact (and no temporary file).

    Raises
    ------
    OSError
        If the file cannot be written (the old file is then unchanged).
    """
    # a name of this writer's own: two writers at once (a worker and a submit on another
    # host) never write into, or rename, each other's temporary file
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w") as fh:
            # strict JSON: a measurement a diverging run left as nan is null (strict_json)
            fh.write(strict_json.dumps(nonfinite_to_null(data), indent=2, sort_keys=True,
                                       what=str(path)) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    try:                          # the rename itself survives a crash of the machine
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _unfinished_creation(path: Path) -> list[Path]:
    """What a process killed in :meth:`RunDir.create` left in ``path``: the data file,
    written before ``settings.json``, and temporary files of atomic writes ([] if the
    folder holds anything else, or ``settings.json``)."""
    if not path.is_dir() or (path / SETTINGS).exists():
        return []
    files = list(path.iterdir())
    if files and all(f.is_file() and (f.name == DATA or f.name.endswith(".tmp"))
                     for f in files):
        return files
    return []


def clear_unfinished_creation(path: Path) -> None:
    """Remove what a process killed in :meth:`RunDir.create` left, nothing else. Left
    there, every later ``ionmd run`` or ``sweep submit`` refused the folder ("exists, is
    not empty and is no ionmd run directory"); no result is lost, none was there."""
    for f in _unfinished_creation(path):
        f.unlink()


def settings_to_keep(path: Path, wanted: dict, what: str,
                     longer: bool = False) -> dict | None:
    """The ``settings.json`` that ``path`` keeps when it is reopened for ``wanted`` (what
    it recorded, with where things are now), or None for a folder that is new or empty
    (or holds only what a killed :meth:`RunDir.create` left): write ``wanted`` there.
    Writes nothing, so that every run can be checked before any is written.

    Raises
    ------
    IonmdError
        If the folder holds ``settings.json`` with other settings (naming the keys that
        differ), or other files and no ``settings.json``. ``longer``: settings that differ
        only in the run's length (:data:`DURATION_KEYS`) are kept as ``wanted`` has them
        (``ionmd run`` with another ``--time``: the caller lengthens the run or refuses a
        shorter one, :meth:`ionmd.protocols.rundir.RunDir.check`).
    """
    return _recorded_and_kept(path, wanted, what, longer)[1]


DURATION_KEYS = ("duration_ps", "long_duration_ps")
"""The protocol keys of a run's length: with ``--time`` changed and nothing else, a run
folder is the same run made longer (or shorter), not another one."""


def differs_in_length_only(recorded: dict, wanted: dict) -> bool:
    """Whether a folder's settings ``recorded`` and those of the run ``wanted`` there are
    the same run but for its length (:data:`DURATION_KEYS`), and differ there."""
    have, same = run_defining_settings(recorded, json.loads(json.dumps(wanted)))
    if have == same:
        return False
    for s in (have, same):
        for key in DURATION_KEYS:
            s.get("protocol", {}).pop(key, None)
    return have == same


def _recorded_and_kept(path: Path, wanted: dict, what: str,
                       longer: bool = False) -> tuple[dict | None, dict | None]:
    """``settings.json`` as ``path`` holds it (None: none) and :func:`settings_to_keep`'s
    answer, from one reading of the file."""
    wanted = json.loads(json.dumps(wanted))           # as the file holds it (tuples: lists)
    if (path / SETTINGS).is_file():
        recorded = read_folder_json(path / SETTINGS)
        have, same = run_defining_settings(recorded, wanted)
        if have == same or (longer and differs_in_length_only(recorded, wanted)):
            return recorded, _as_recorded(recorded, wanted)
        asked, wanted = wanted, same
        diff = sorted(k for k in set(have) | set(wanted) if have.get(k) != wanted.get(k))
        if "protocol" in diff:
            p0, p1 = have.get("protocol", {}), wanted["protocol"]
            diff.remove("protocol")
            diff += [f"protocol.{k}" for k in sorted(set(p0) | set(p1)) if p0.get(k) != p1.get(k)]
        note = model_changed_note(path, recorded, asked) if "model_hash" in diff else ""
        exc = IonmdError(f"{what} {path} exists with other settings (differs in "
                         f"{', '.join(diff)}); choose another output folder, or delete it to "
                         f"start over" + (f"; {note}" if note else ""))
        exc.model_note = note
        raise exc
    if path.exists() and any(path.iterdir()) and not _unfinished_creation(path):
        raise IonmdError(f"{path} exists, is not empty and is no ionmd {what}; choose another "
                         f"output folder")
    return None, None


def reopen_with_settings(path: Path, wanted: dict, what: str, longer: bool = False) -> bool:
    """Whether ``path`` already holds results made with ``wanted`` (its ``settings.json``):
    True to reopen it (``settings.json`` updated when the model or template moved, or
    replicas were added), False for a folder that is new or empty (write ``settings.json``
    there). Results made with other settings are never overwritten.

    Raises
    ------
    IonmdError
        As :func:`settings_to_keep` (``longer`` as there).
    """
    recorded, keep = _recorded_and_kept(path, wanted, what, longer)
    if keep is None:
        return False
    if recorded != keep:
        replace_json(path / SETTINGS, keep)
    return True


def _as_recorded(recorded: dict, wanted: dict) -> dict:
    """``wanted`` with what an older directory ran with in place of today's defaults, so
    that it resumes (and is recorded) as it started: ``seed + replica`` where no
    ``velocity_seed`` was recorded; without ``inputs_version`` (written before version 2,
    :data:`INPUTS_VERSION`) the version-1 input, and ``couple = aniso`` (the default then)
    where today's default ``auto`` is asked for; an older recorded version (2: NVT in the
    data file's cell) that version's input, and a ``conductivity-nvt`` folder written
    before version 3 its ``relax = false`` (the preset's value then) where today's
    ``true`` is asked for; a folder before version 5 its velocity seed of the old draw
    (1 .. 2**30: :func:`velocity_seed`)."""
    wanted = json.loads(json.dumps(wanted))
    if "velocity_seed" not in recorded:          # it ran with seed + replica: keep that
        wanted.pop("velocity_seed", None)
    have_p, want_p = recorded.get("protocol", {}), wanted.get("protocol", {})
    if "inputs_version" not in recorded:
        wanted.pop("inputs_version", None)
        if have_p.get("couple") == "aniso" and want_p.get("couple") == "auto":
            want_p["couple"] = "aniso"
    elif _older_version(recorded.get("inputs_version"), wanted.get("inputs_version")):
        wanted["inputs_version"] = recorded["inputs_version"]
    if ("velocity_seed" in recorded and "velocity_seed" in wanted
            and _older_version(recorded.get("inputs_version", 1), MARSAGLIA_SEEDS_VERSION)):
        # drawn in 1 .. 2**30 then: the same (seed, temperature, replica) resumes with it
        try:
            old = velocity_seed(want_p["seed"], wanted["temperature_K"], wanted["replica"],
                                inputs_version=int(recorded.get("inputs_version", 1)))
        except (KeyError, TypeError, ValueError):
            old = None
        if old is not None and recorded["velocity_seed"] == old:
            wanted["velocity_seed"] = old
    if (_older_version(recorded.get("inputs_version", 1), 3) and have_p.get("relax") is False
            and want_p.get("relax") is True and have_p.get("name") == "conductivity-nvt"):
        # conductivity-nvt relaxed nothing before version 3 (relax=false, the default then):
        # its folders resume as they started
        want_p["relax"] = False
    return wanted


def _older_version(recorded, wanted) -> bool:
    """Whether a folder's recorded inputs version is an older one than ``wanted``."""
    return (isinstance(recorded, int) and isinstance(wanted, int)
            and not isinstance(recorded, bool) and recorded < wanted)


def run_defining_settings(have: dict, wanted: dict) -> tuple[dict, dict]:
    """Two settings records (a folder's ``have``, the run ``wanted`` there) reduced to the
    parts that decide whether they are the same run, as reopening a folder compares them
    and as collect names what differs: not the
    replica count (more replicas add run directories; the existing ones are the same
    runs), not where the model and input template lie when their contents' hashes are
    recorded (a campaign folder moved or copied elsewhere resumes), not the model file's
    bytes where its model is the recorded one (another export of it:
    :func:`_recorded_model_is`). A record written before template hashes were kept
    compares the template's path, as it did."""
    have, wanted = json.loads(json.dumps(have)), _as_recorded(have, wanted)
    for s in (have, wanted):
        s.get("protocol", {}).pop("replicas", None)
    if "model_hash" in have and "model_hash" in wanted:
        if _recorded_model_is(have, wanted):      # another export of it, or an old record
            wanted["model_hash"] = have["model_hash"]
        have.pop("model", None)
        wanted.pop("model", None)
    for s in (have, wanted):
        s.pop("model_file_hash", None)           # the file's bytes: any export of the model
    if "template_hash" in have and "template_hash" in wanted:
        have.get("protocol", {}).pop("template", None)
        wanted.get("protocol", {}).pop("template", None)
    elif "template_hash" not in have:
        wanted.pop("template_hash", None)
    return have, wanted


def structure_hash(atoms: Atoms) -> str:
    """Digest of cell, numbers and positions (rounded to 1e-6 A)."""
    h = hashlib.sha256()
    for arr in (np.round(np.asarray(atoms.cell), 6), atoms.numbers,
                np.round(atoms.positions, 6)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


MARSAGLIA_SEED_MAX = 900_000_000
"""The largest seed LAMMPS's RanMars takes (``fix langevin``, ``fix temp/csvr``, ...:
"Invalid seed for Marsaglia random # generator" above it): a template may seed them with
``$seed``, the run's velocity seed."""
MARSAGLIA_SEEDS_VERSION = 5
"""First inputs version whose velocity seeds are drawn in 1 .. :data:`MARSAGLIA_SEED_MAX`;
older folders drew 1 .. 2**30 (~16 % of them above it) and keep their recorded seed."""


def velocity_seed(seed: int, temperature: float, replica: int,
                  inputs_version: int | None = None) -> int:
    """A LAMMPS velocity seed (1 .. :data:`MARSAGLIA_SEED_MAX`; 1 .. 2**30 for an
    ``inputs_version`` before :data:`MARSAGLIA_SEEDS_VERSION`, None: today's) for one
    (temperature, replica) of a protocol seeded with ``seed``. Every temperature gets its own draw: with ``seed + replica`` alone
    the runs of one replica at different temperatures would start from scaled copies of the
    same velocities (correlated points of an Arrhenius fit). A hash, not an arithmetic
    formula, so that no two (temperature, replica) pairs of a protocol share a seed, and a
    temperature added later leaves the other runs' seeds as they were. Where the earlier
    draw (1 .. 2**30) is a seed LAMMPS's RanMars takes (84 % of draws) it is kept, so that
    the same settings start the same velocities as before version 5; only the rest is
    drawn again below the limit."""
    key = f"{int(seed)} {float(temperature)!r} {int(replica)}".encode()
    drawn = int.from_bytes(hashlib.sha256(key).digest()[:4], "little")
    before = drawn % (1 << 30) + 1
    if (inputs_version is not None and inputs_version < MARSAGLIA_SEEDS_VERSION) \
            or before <= MARSAGLIA_SEED_MAX:
        return before
    return drawn % MARSAGLIA_SEED_MAX + 1


def file_hash(path: Path) -> str:
    """sha256 (16 hex digits) of a file's bytes (an input template's ``template_hash``; a
    model file's ``model_file_hash``), read once per state of the file in this process
    (:func:`_file_state`): ``sweep collect`` and ``status`` ask it for every run folder,
    and reading a 500 MB model 100 times took ~100 s."""
    return _of_state(file_digest, *_file_state(path))


def model_hash(path: Path) -> str:
    """The model file's identity (:func:`~ionmd.export.model_identity.model_identity`,
    ``model_hash``), as :func:`file_hash` once per state of the file: a model file that
    ionmd's exporters did not write is identified by all its bytes."""
    return _of_state(model_identity, *_file_state(path))


def model_hashes(path: Path) -> dict:
    """``settings.json``'s record of the model file ``path``: ``model_hash``, the model's
    identity (:func:`model_hash`: what series and resumes compare), and
    ``model_file_hash``, the digest of its bytes (:func:`file_hash`)."""
    return {"model_hash": model_hash(path), "model_file_hash": file_hash(path)}


def _file_state(path: Path) -> tuple:
    """The file ``path`` resolved, and what changes when its bytes do: size, mtime, ctime
    (a copy that kept the old mtime), inode and device (a file replaced by a rename)."""
    path = Path(path).resolve()
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


@functools.lru_cache(maxsize=256)
def _of_state(digest, path: str, *state) -> str:
    return digest(path)


def _recorded_model_is(have: dict, wanted: dict) -> bool:
    """Whether the model a folder recorded (``have``) is the one ``wanted`` names: its
    identity, or where the folder recorded the bytes' digest (written before identities
    were), this file's digest, or the identity of the file it recorded, which is still
    there with those bytes (another export of it:
    :func:`~ionmd.export.model_identity.identity_of_recorded_file`)."""
    recorded = have["model_hash"]
    if recorded in (wanted["model_hash"], wanted.get("model_file_hash")):
        return True
    if "model_file_hash" in have or not isinstance(have.get("model"), str):
        return False
    return identity_of_recorded_file(have["model"], recorded) == wanted["model_hash"]


def model_changed_note(path: Path, recorded: dict, wanted: dict) -> str:
    """Why a run folder refuses the model file ``wanted`` names: which file, the hash its
    runs recorded and this file's, and how to go on."""
    old, new = recorded.get("model"), wanted.get("model")
    there = ""
    if isinstance(old, str) and old != new and Path(old).is_file():
        try:
            if recorded.get("model_hash") == model_identity(old) or (
                    identity_of_recorded_file(old, recorded.get("model_hash") or "")):
                there = f" ({old} still is that model)"
        except OSError:
            pass
    return (f"the model file's contents changed (another export or another checkpoint): the "
            f"runs in {path} were made with model hash {recorded.get('model_hash')} (file "
            f"{old}), the model file {new} has model hash {wanted.get('model_hash')}. To go on, "
            f"give this model another output folder, or run with the file the runs were made "
            f"with{there}")
