"""One run directory per (structure, model, protocol, temperature, replica).

Layout::

    settings.json   what the run is (protocol, temperature, replica, model, structure hash);
                    reopening the directory with other settings is refused
    status.json     {"state": pending|running|completed|failed|interrupted, "reason",
                     "step", "planned_steps", "resumable", "pieces", ...}; ``step`` follows
                     the thermo output while the run is going on
    .reserve        a little disk space held while LAMMPS runs, given up to record the
                     outcome when the disk is full (see RunDir.write_json)
    run.json        what ionmd.analysis reads (schema in ionmd.analysis.run_spec)
    struct.data     LAMMPS data file (types in pair_coeff order)
    in.K.lmp, log.K.lammps, screen.K.txt, traj.K.dcd   piece K (0 = first, then resumes)
    restart.a, restart.b   the two latest restart files (LAMMPS writes them alternately)
    restart.end     the final state of the last piece (extended runs resume from it),
                     written as restart.end.part, renamed by ionmd once it is whole (a cut
                     one is removed: ionmd.protocols.restarts.settle_end_restart)

A resumed piece starts from the newer restart file and repeats that step's frame; the
previous piece is cut back to that step (it may hold frames written after the restart,
and a half-written last frame when the run was killed), so the stitched trajectory has
no gap and no duplicate frame.

States: ``failed`` is for good (a LAMMPS error, a physical failure: not rerun);
``interrupted`` (LAMMPS killed, ionmd stopped by a signal, a full disk) resumes from the
newer restart file when the run is executed again. Every JSON file is written whole
(temporary file, fsync, rename): a writer that dies or finds the disk full leaves the old
file as it was.
"""

from __future__ import annotations

import errno
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ase import Atoms

from ionmd.analysis.run_files import RUN_JSON, SETTINGS, STATUS
from ionmd.analysis.run_json import refusing_repeats
from ionmd.analysis.run_model import model_of_folder
from ionmd.errors import IonmdError
from ionmd.protocols.presets import Protocol
from ionmd.protocols.run_settings import (DATA, clear_unfinished_creation, file_hash,
                                          model_hash, read_folder_json, read_run_settings,
                                          reopen_with_settings, replace_json, settings_to_keep,
                                          structure_hash, velocity_seed)
from ionmd.protocols.piece_times import PIECE_TIMES, piece_wall_seconds

STATES = ("pending", "running", "completed", "failed", "interrupted")
RESERVE, RESERVE_BYTES = ".reserve", 64 * 1024
STRUCTURE_NOTES = "structure_notes"
"""``run.json``'s record of what ionmd did to the structure file before the run (occupancies
within rounding read as whole, partial occupancies ordered, a supercell built): the notes
printed once when the file was read, kept for whoever reads the run later ([]: nothing was
done; no key: a folder written before they were recorded)."""
EDITABLE_RUN_JSON_KEYS = ("discard_ps", "mobile_species")
"""``run.json`` keys a user may edit in a run folder to analyse its run otherwise (a longer
discard; collect's cache sees the edit): ionmd keeps them as the file holds them when it
writes run.json again (a resumed or extended piece, a reset), where it wrote the protocol's
value over them before. The rest of run.json says how the run was run and stays ionmd's.
An edit the analysis could not use is refused at the launch of a piece
(:mod:`ionmd.protocols.run_json_edits`), and a stopping rule's first check follows an
edited discard (:func:`ionmd.protocols.stopping.run_first_target`)."""
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
"""errno values of a full disk (or quota): an interruption, not a failure of the run."""
INPUTS_VERSION = 5
"""Version of the MD input a new run directory gets (``settings.json`` ``inputs_version``):
5 runs a Nose-Hoover NpT temperature ramp in chunks, so that the barostat's mass follows
the ramp (:data:`ionmd.protocols.md_input.CHUNKED_RAMP_VERSION`), and draws velocity seeds
of 1 .. 900000000, which LAMMPS's Marsaglia generator (a template's ``fix langevin ...
$seed``) takes (:func:`ionmd.protocols.run_settings.velocity_seed`); older folders keep
their input and seed. 4 relaxes in rounds (:func:`ionmd.protocols.md_input.cell_relaxation`); version-3 folders
keep :func:`ionmd.protocols.md_input.cell_relaxation_v3`. 3 relaxes the cell with the model
before an NVT run too (``relax``), and relaxes it until the stress is within a tolerance;
2 draws initial velocities with ``rot no`` and resolves ``couple = auto``. A directory
with an older version resumes with the input it started with: version 2 (NVT in the data
file's cell, 200 iterations), and one without the key (version 1: ``rot yes``, ``couple``
as recorded, ``aniso`` by default) (:func:`ionmd.protocols.run_settings._as_recorded`)."""



def read_run_record(path: Path, object_pairs_hook=None) -> dict:
    """``run.json`` at ``path`` ({} where there is none), an object of keys.

    Raises
    ------
    IonmdError
        If a hand edit left it no valid JSON, or JSON other than an object of keys (a
        list, a string): named, with the fix (before: a traceback, JSONDecodeError or
        AttributeError, from every command that opened the run, ``sweep status`` too).
    """
    if not path.is_file():
        return {}
    fix = "fix the edit, or delete the file to have ionmd write it again from the run's settings"
    try:
        record = json.loads(path.read_text(), object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as exc:
        raise IonmdError(f"{path} is not valid JSON ({exc}); {fix}") from None
    if not isinstance(record, dict):    # as the analysis refuses it (run_spec.read_run_json)
        raise IonmdError(f"{path} holds a JSON {type(record).__name__}, not an object of keys "
                         f"({{\"discard_ps\": ..., ...}}); {fix}")
    return record


@dataclass
class RunDir:
    """A run directory and what it is for."""

    path: Path
    protocol: Protocol
    temperature: float
    replica: int
    model: Path
    structure: str
    elements: list[str]
    charges: dict[str, float] | None = None
    """Oxidation states written to ``run.json`` for analysis (None: keep what it holds)."""
    charges_guessed: bool | None = None
    """Whether ``charges`` are ionmd's guess (``run.json`` ``charges_guessed``), not
    declared by the structure's file nor given by the user; None: not known (a run folder
    written before it was recorded), no key written, read as the user's."""
    model_name: str | None = None
    """The model's name as the run or campaign names it in its tables (``run.json``'s
    ``model``; a campaign's linked file: the link's stem, its runs under the target's);
    None: the model file's stem."""
    structure_notes: list[str] | None = None
    """What ionmd did to the structure file to make this run's cell (:data:`STRUCTURE_NOTES`);
    None: keep what ``run.json`` holds (a folder reopened from its files)."""

    @property
    def model_record(self) -> dict:
        """``run.json``'s ``model`` (the name) and ``model_hash`` (``settings.json``'s
        identity of the model, taken when the folder is created or reopened; each launch
        checks the model file against it, :mod:`ionmd.protocols.launch_inputs`), so that
        analysis tells runs of different models apart and puts the runs of every export of
        one model in one series."""
        recorded = self.read_json(SETTINGS)
        digest = recorded.get("model_hash") if recorded else None
        return {"model": self.model_name or self.model.stem,
                **({"model_hash": digest} if digest else {})}

    # ---- seeds --------------------------------------------------------------------------
    @property
    def velocity_seed(self) -> int:
        """The seed of this run's initial velocities (and of a template's ``${seed}``).

        Recorded in ``settings.json`` when the directory is created; a directory written
        before seeds were recorded used ``seed + replica`` at every temperature and keeps
        it, so that it resumes and is reported as it ran.
        """
        recorded = self.read_json(SETTINGS)
        if recorded:
            return int(recorded.get("velocity_seed", self.protocol.seed + self.replica))
        return velocity_seed(self.protocol.seed, self.temperature, self.replica)

    @property
    def inputs_version(self) -> int:
        """Version of the MD input this run gets (:data:`INPUTS_VERSION` for a new
        directory; 1 for one written before versions were recorded, which keeps its input)."""
        recorded = self.read_json(SETTINGS)
        return int(recorded.get("inputs_version", 1)) if recorded else INPUTS_VERSION

    # ---- files --------------------------------------------------------------------------
    def read_json(self, name: str) -> dict:
        """The JSON object in ``name``, ``{}`` where the file is not there.

        Raises
        ------
        DamagedRunFile
            (:mod:`ionmd.protocols.run_settings`: an IonmdError and a ValueError) If the
            file holds no JSON object, naming it and how to go on
            (:func:`~ionmd.protocols.run_settings.read_folder_json`).
        """
        return read_folder_json(self.path / name)

    def write_json(self, name: str, data: dict, use_reserve: bool = True) -> None:
        """Replace ``name`` atomically: a temporary file, fsync, rename, so that a killed
        writer or a full disk leaves the old file intact (and no temporary file behind).
        On a full disk the run's reserve (see :meth:`reserve_space`) is given up once
        and the write tried again, unless ``use_reserve`` is False.

        Raises
        ------
        OSError
            If the file cannot be written (the old file is then unchanged).
        """
        while True:
            try:
                replace_json(self.path / name, data)
            except OSError as exc:
                if use_reserve and exc.errno in NO_SPACE and self.release_reserve():
                    continue
                raise
            break

    def reserve_space(self) -> None:
        """Hold :data:`RESERVE_BYTES` of disk in the run directory while LAMMPS runs, so
        that the outcome can be recorded even when LAMMPS has filled the disk (random
        bytes: a compressing file system stores zeros in no space).

        Raises
        ------
        OSError
            If the disk is full already (the partial file is removed).
        """
        try:
            with open(self.path / RESERVE, "wb") as fh:
                fh.write(os.urandom(RESERVE_BYTES))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError:
            self.release_reserve()
            raise

    def release_reserve(self) -> bool:
        """Give the reserved space back; whether there was any."""
        try:
            (self.path / RESERVE).unlink()
        except FileNotFoundError:
            return False
        return True

    @property
    def status(self) -> dict:
        return self.read_json(STATUS)

    def set_status(self, state: str, **fields) -> dict:
        assert state in STATES
        status = self.status
        status.update(fields, state=state, updated=time.strftime("%Y-%m-%dT%H:%M:%S"))
        if state not in ("failed", "interrupted"):   # a resumed or finished run drops
            status.pop("reason", None)                # the old reason
            status.pop("stopped_by", None)
        self.write_json(STATUS, status)
        return status

    def note_progress(self, ended: bool = False, **fields) -> None:
        """Update fields of a running run's status (its current ``step``) and its last
        piece's progress time (:func:`piece_wall_seconds`; ``ended``: its LAMMPS has ended)
        if the disk allows: never with the reserve, never raising (progress is not worth a
        failure)."""
        status = self.status
        status.update(fields, updated=time.strftime("%Y-%m-%dT%H:%M:%S"))
        times = status.get(PIECE_TIMES)
        if times and times[-1]:
            times[-1]["progress"] = time.time()
            if ended:
                times[-1].update(ended=True, end_from="runner")
        try:
            self.write_json(STATUS, status, use_reserve=False)
        except OSError:
            pass

    @property
    def planned_steps(self) -> int:
        """Steps of the whole run (with a stopping rule: the most it may run): the
        protocol's, unless :meth:`set_length` changed it."""
        return int(self.status.get("length_steps") or self.protocol.steps(self.temperature))

    def set_length(self, steps: int) -> dict:
        """Give a run another length: a run not started yet, or a finished one that is to go
        on (a campaign's budget extends runs this way; the run resumes from its restart
        file). With a stopping rule the run goes straight to ``steps`` and is checked
        there. Returns the new status.

        Raises
        ------
        IonmdError
            If the run is going on, failed, or ``steps`` is not past where it is.
        """
        st = self.status
        if st.get("state") not in ("pending", "completed") or (
                st.get("state") == "pending" and st.get("pieces")):
            raise IonmdError(f"{self.path} is {st.get('state')}: only a run not started yet or "
                             f"a completed one can get another length")
        if steps <= int(st.get("step", 0)):
            raise IonmdError(f"{self.path}: {steps} steps is not past its step {st.get('step', 0)}")
        fields: dict = dict(length_steps=int(steps), planned_steps=int(steps), resumable=True)
        if self.protocol.until and st.get("pieces"):
            # the interval of an earlier stop by the rule is no longer the run's: `ionmd
            # status` printed it beside "next check at step ..." of the extended run
            # and its length is now the extension's, not the rule's: it ends at ``steps``
            # as a fixed-length run (stopping.after_segment: stop_reason "extended", the
            # ordinary interval), where its rule held there or not
            fields.update(target_step=int(steps), stop_reason=None, D_ci95_at_stop=None,
                          extended_from_step=int(st.get("extended_from_step")
                                                 or st.get("step", 0)))
        elif self.protocol.until:
            from ionmd.protocols.stopping import run_first_target

            fields.update(target_step=run_first_target(self, steps))
        return self.set_status("pending", **fields)

    @property
    def target_step(self) -> int:
        """Where the current piece ends: the whole run, or with a stopping rule the next
        check (:mod:`ionmd.protocols.stopping`)."""
        if not self.protocol.until:
            return self.planned_steps
        from ionmd.protocols.stopping import run_first_target

        return int(self.status.get("target_step") or run_first_target(self))

    def _initial_status(self, **extra) -> None:
        if self.protocol.until:
            from ionmd.protocols.stopping import run_first_target, stopping_record

            steps = self.protocol.steps(self.temperature)
            extra.update(target_step=run_first_target(self, steps),
                         stopping=stopping_record(self.protocol, steps), checks=[])
        self.set_status("pending", step=0, planned_steps=self.planned_steps, pieces=0,
                        resumable=True, temperature_K=self.temperature, **extra)

    def note_piece_started(self, k: int) -> dict:
        """Record that piece ``k`` starts now (wall clock): ``status.json``'s
        :data:`PIECE_TIMES` entry of it, the later pieces' dropped (deleted and run again).
        Returns the fields to write with the status."""
        times = list(self.status.get(PIECE_TIMES) or [])[:k]
        times += [None] * (k - len(times))       # pieces run before times were recorded
        now, given = time.time(), self.piece(k)["input"]
        # the input's mtime tells later whether the folder's mtimes are still its own
        mtime = given.stat().st_mtime if given.is_file() else None
        return {PIECE_TIMES: times + [{"started": now, "progress": now, "input_mtime": mtime}]}

    def piece(self, k: int) -> dict[str, Path]:
        return {"input": self.path / f"in.{k}.lmp", "log": self.path / f"log.{k}.lammps",
                "screen": self.path / f"screen.{k}.txt", "trajectory": self.path / f"traj.{k}.dcd"}

    # ---- creation -----------------------------------------------------------------------
    def settings(self, atoms: Atoms) -> dict:
        proto = self.protocol.to_dict()
        proto.pop("temperatures")
        proto.pop("replicas")          # a campaign may add replicas (:func:`run_defining_settings`)
        if not self.protocol.until:    # as before stopping rules existed: old runs reopen
            for key in Protocol.STOPPING_FIELDS:
                proto.pop(key)
        template = self.protocol.template
        return {"protocol": proto, "temperature_K": self.temperature, "replica": self.replica,
                "model": str(self.model.resolve()),
                # the model's identity (what resumes and series compare), the file's bytes
                "model_hash": model_hash(self.model),
                "model_file_hash": file_hash(self.model),
                **({"template_hash": file_hash(Path(template))} if template else {}),
                "structure": self.structure, "structure_hash": structure_hash(atoms),
                "elements": self.elements,
                "velocity_seed": velocity_seed(self.protocol.seed, self.temperature,
                                               self.replica),
                "inputs_version": INPUTS_VERSION}

    def check(self, atoms: Atoms) -> dict:
        """Refuse as :meth:`create` would (a directory with other settings), writing
        nothing; returns the settings checked (for :meth:`create`: the model file is hashed
        once).

        Raises
        ------
        IonmdError
            If the directory exists with other settings.
        """
        from ionmd.protocols.run_length import length_change

        wanted = self.settings(atoms)
        # another length only within `ionmd run` (lengthening_runs); a shorter one refused
        change = length_change(self, wanted)
        settings_to_keep(self.path, wanted, "run directory", longer=change is not None)
        return wanted

    def create(self, atoms: Atoms, settings: dict | None = None) -> None:
        """Write settings, data file, ``run.json`` and a pending status; reopen an
        existing directory only when its settings are the same, its runs kept and its
        ``run.json`` given this run's charges and model (:meth:`_update_record`).
        ``settings``: what :meth:`check` returned for ``atoms`` (default: computed here).

        Raises
        ------
        IonmdError
            If the directory exists with other settings.
        """
        from ionmd.lammps.data_file import write_data
        from ionmd.protocols.run_length import length_change, lengthen, refuses_lengthening

        wanted = settings if settings is not None else self.settings(atoms)
        clear_unfinished_creation(self.path)
        # `ionmd run` with a longer --time: the same run made longer (run_length)
        change = length_change(self, wanted)
        if refuses_lengthening(self, change):
            self._update_record()
            return
        if reopen_with_settings(self.path, wanted, "run directory", longer=change is not None):
            if change is not None:
                lengthen(self, change)
            self._update_record()
            return
        self.path.mkdir(parents=True, exist_ok=True)
        write_data(atoms, self.path / DATA, self.elements)
        self.write_json(SETTINGS, wanted)
        self._initial_status()
        self.write_run_json(pieces=0)

    def discarded_usage(self, pieces: int) -> dict:
        """``status.json``'s ``discarded_core_seconds`` and ``discarded_md_steps`` once
        the first ``pieces`` pieces are deleted (a run killed before its first restart
        file starts over; a failed run is retried): what they had, plus the core-seconds
        and MD steps of those pieces' logs (:func:`~ionmd.lammps.log.piece_core_seconds`,
        their wall time from :func:`piece_wall_seconds`), so that a campaign's budget counts compute
        that no log holds any more."""
        from ionmd.lammps.log import finished_loops, piece_core_seconds
        from ionmd.lammps.thermo_log import unfinished_md_steps

        status = self.status
        used = float(status.get("discarded_core_seconds", 0.0))
        steps = int(status.get("discarded_md_steps", 0))
        for k in range(pieces):
            files = self.piece(k)
            if not files["log"].is_file():
                continue
            used += piece_core_seconds(files["log"], piece_wall_seconds(self.path, k, status))
            text = files["log"].read_text(errors="replace")
            steps += sum(loop.steps for loop in finished_loops(text) if not loop.minimization)
            steps += unfinished_md_steps(text)
        return {"discarded_core_seconds": used, "discarded_md_steps": steps}

    def _update_record(self) -> None:
        """Give a reopened directory's ``run.json`` this run's ``charges`` and
        ``charges_guessed`` where they differ (a campaign folder written before the
        campaign used its structure files' declared states kept the guess, and
        ``ionmd analyze RUN`` read it; none where this run has no charges: None keeps what
        the file holds), its ``model_hash`` as ``settings.json`` now records it (none: a
        folder written before it was recorded; the file's digest: one written before model
        identities were, :mod:`ionmd.protocols.run_settings`) and its ``model`` where it has none or this run names it otherwise
        (a campaign's name for a linked file, where the folder's was written); the rest of
        the file (pieces, logs, :data:`STRUCTURE_NOTES`) is kept. A folder written before
        structure notes were recorded gets them only where ``run.json`` is written whole
        again by a run that knows them (a launch by ``ionmd run``), not here: collect's
        cache key digests ``run.json``, and every reopening (``sweep collect``, ``status``)
        would have had each finished run analysed again for a note its analysis ignores."""
        held = read_run_record(self.path / RUN_JSON)
        if not held:
            return
        # model_hash follows settings.json, which was just accepted for this model: a
        # folder written before model identities were recorded holds the file's digest
        record = {k: v for k, v in self.model_record.items()
                  if k not in held or (k == "model" and self.model_name is not None)
                  or k == "model_hash"}
        if self.charges is not None:
            record.update(self._charges_record())
        if all(held.get(k) == v for k, v in record.items()):
            return
        kept = {k: v for k, v in held.items() if k not in record}
        self.write_json(RUN_JSON, {**record, **kept})

    def reset(self) -> None:
        """Delete every piece, restart file and the old status, so that the run starts
        over (settings kept, the data file written again from its own atoms): how a failed
        run is retried. The compute the deleted pieces used stays in the new status
        (:meth:`discarded_usage`)."""
        used = self.discarded_usage(int(self.status.get("pieces", 0)))
        for pattern in ("in.*.lmp", "log.*.lammps", "screen.*.txt", "traj.*.dcd", "restart.[ab]",
                        "restart.end", "restart.end.part",
                        "restart.end.kept"):     # .kept: left by ionmd of e780750
            for f in self.path.glob(pattern):
                f.unlink()
        (self.path / STATUS).unlink(missing_ok=True)
        self._rewrite_data_file()
        self._initial_status(**used)
        self.write_run_json(pieces=0)

    def _rewrite_data_file(self) -> None:
        """The data file's atoms (types, masses, box) written again by today's
        ``write_data``: a folder made before the box's tilts were reduced kept them (xy =
        2.25 lx), and its retry failed as the run had ("Fix npt has tilted box too far in
        one step"). The same crystal, so the settings' structure hash holds; written
        whole (temporary file, rename). A box written mirrored stays so: the file holds
        the mirror's atoms."""
        from ase.data import atomic_numbers
        from ase.io import read

        from ionmd.lammps.data_file import write_data

        path = self.path / DATA
        if not path.is_file():
            return
        atoms = read(path, format="lammps-data", atom_style="atomic", units="metal",
                     Z_of_type={i + 1: atomic_numbers[el] for i, el in enumerate(self.elements)})
        tmp = path.with_name(path.name + ".tmp")
        write_data(atoms, tmp, self.elements)
        os.replace(tmp, path)

    def write_run_json(self, pieces: int, held_charges: bool = False) -> None:
        """``run.json`` for ``pieces`` pieces; ``held_charges``: with the charges the file
        holds where it holds any (a launch: the folder's last word, which a campaign
        reopened since this RunDir was opened may have changed), else this run's. The
        analysis settings a user may edit there (:data:`EDITABLE_RUN_JSON_KEYS`: a longer
        discard) are kept as the file holds them: a resumed, extended or reset run does not
        undo them."""
        p = self.protocol
        unwrapped = p.ensemble == "nvt"
        on_file = read_run_record(self.path / RUN_JSON)
        held = on_file if held_charges else {}
        charges = ({k: held[k] for k in ("charges", "charges_guessed") if k in held}
                   if held.get("charges") else self._charges_record())
        edited = {k: on_file[k] for k in EDITABLE_RUN_JSON_KEYS if k in on_file}
        self.write_json(RUN_JSON, {**charges, **self.model_record,
            "schema": "ionmd-run/1", "temperature_K": self.temperature,
            "timestep_fs": p.timestep_fs, "dump_every": p.dump_every,
            "discard_ps": p.schedule(self.temperature)[1],
            "mobile_species": list(p.mobile_species),
            "type_map": {str(i + 1): el for i, el in enumerate(self.elements)},
            "data_file": DATA, "atom_style": "id type x y z",
            "trajectory": [self.piece(k)["trajectory"].name for k in range(pieces)],
            "logs": [self.piece(k)["log"].name for k in range(pieces)],
            "dump_unwrapped": unwrapped, "ensemble": p.ensemble, "protocol": p.name,
            "structure": self.structure, "replica": self.replica,
            "temperature_end_K": p.temperature_end, **self._notes_record(), **edited,
        })

    def _notes_record(self) -> dict:
        """``run.json``'s :data:`STRUCTURE_NOTES`: this run's, or (None) those the file holds,
        so that a reset or resumed run keeps them; none where neither is known."""
        notes = self.structure_notes
        if notes is None:
            notes = read_run_record(self.path / RUN_JSON).get(STRUCTURE_NOTES)
        return {} if notes is None else {STRUCTURE_NOTES: list(notes)}

    def _charges_record(self) -> dict:
        """``run.json``'s ``charges`` and ``charges_guessed``: this run's, or (charges
        None) those the file holds, so that a reset or resumed run keeps where its charges
        came from; no ``charges_guessed`` where it is not known."""
        if self.charges is None:
            held = read_run_record(self.path / RUN_JSON)
            charges, guessed = held.get("charges"), held.get("charges_guessed")
        else:
            charges, guessed = self.charges, self.charges_guessed
        if not charges:
            return {}
        return {"charges": charges, **({} if guessed is None else
                                       {"charges_guessed": bool(guessed)})}

    @classmethod
    def open(cls, path: str | Path) -> "RunDir":
        """Reopen a run directory from its ``settings.json``; an IonmdError where it has
        none or holds no run's settings (:func:`read_run_settings`: DamagedRunFile)."""
        path = Path(path)
        if not (path / SETTINGS).is_file():
            raise IonmdError(f"{path} is no ionmd run directory (no {SETTINGS})")
        s = read_run_settings(path)
        proto = dict(s["protocol"], temperatures=(s["temperature_K"],))
        proto = {k: tuple(v) if isinstance(v, list) else v for k, v in proto.items()}
        # a key given twice is refused as the analysis refuses it (json keeps the last)
        run = read_run_record(path / RUN_JSON, refusing_repeats(path / RUN_JSON))
        return cls(path=path, protocol=Protocol(**proto), temperature=s["temperature_K"],
                   replica=s["replica"], model=Path(s["model"]), structure=s["structure"],
                   elements=s["elements"], charges=run.get("charges"),
                   charges_guessed=run.get("charges_guessed"),
                   structure_notes=run.get(STRUCTURE_NOTES),
                   # a folder written before run.json named its model: as its path does
                   model_name=run.get("model") or model_of_folder(path).get("model"))
