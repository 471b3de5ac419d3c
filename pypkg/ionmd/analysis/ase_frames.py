"""Trajectories ionmd did not write, read through ASE: VASP ``XDATCAR`` (fixed cell, or
variable cell with a lattice in every frame), extended XYZ and ASE ``.traj`` files (or any
format ``ase.io.read`` knows, named with ``trajectory_format``). They become the same
:class:`~ionmd.analysis.unwrapping.Piece` a LAMMPS run gives, so unwrapping, MSD, fits,
error bars, drift removal and failure checks are the same code.

What the files say. Elements (and masses: ASE's standard ones unless a ``.traj`` stores
others) always. Timing only sometimes: an ASE MD ``.traj`` stores its integrator's
``todict()`` in its header (``timestep`` in ASE units, ``interval`` = steps between frames,
``temperature_K`` for thermostats); an extended XYZ written by ASE MD stores no time (ASE
puts none in ``atoms.info``), but frames whose comment line has ``step=`` (MD step) or
``time_fs=``/``time_ps=`` are used (a bare ``time`` is not: its unit is unsaid); an
``XDATCAR`` stores none, but the ``INCAR`` beside it does (``POTIM``, ``NBLOCK``: VASP
writes a frame every NBLOCK steps, default 1; ``TEBEG`` unless ``TEEND`` ramps it). The
rest comes from ``run.json`` or the command line (:func:`resolve_timing`); a value given
both ways must agree. Where the frames hold momenta (``.traj``, ASE's extended XYZ) their
kinetic temperature feeds the temperature-runaway check, as LAMMPS's thermo output does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.stitching import stitch
from ionmd.analysis.unwrapping import Piece
from ionmd.errors import AnalysisError

#: Names a run directory is searched for when ``trajectory`` is not given (after *.dcd).
SEARCHED = ("XDATCAR", "*.extxyz", "*.xyz", "*.traj")

#: Flag (and run.json key) of each timing value, for error messages.
OPTIONS = {"timestep_fs": "--timestep-fs", "dump_every": "--dump-every",
           "temperature_K": "--temperature"}

#: Where a VASP user finds each value (INCAR tags).
VASP_TAGS = {"timestep_fs": "POTIM", "dump_every": "NBLOCK", "temperature_K": "TEBEG"}


def ase_format(path: str | Path) -> str | None:
    """ASE format of a trajectory file: ``traj`` for an ASE ``.traj`` (ULM) file whatever
    its name, else by its name (``XDATCAR*``, ``*.xdatcar``, ``*.extxyz``, ``*.xyz``,
    ``*.traj``); None for anything else (a LAMMPS file)."""
    name = Path(path).name
    if _is_ase_traj(Path(path)):
        return "traj"
    if name.upper().startswith("XDATCAR") or name.lower().endswith(".xdatcar"):
        return "vasp-xdatcar"
    return {".extxyz": "extxyz", ".xyz": "extxyz", ".traj": "traj"}.get(Path(path).suffix.lower())


#: The first bytes of an ASE ``.traj`` (ULM) file.
ULM_MAGIC = b"- of Ulm"


def _is_ase_traj(path: Path) -> bool:
    """Whether ``path`` is an ASE ``.traj`` (ULM) file whatever its name: ASE MD opens a
    ``.traj`` writer for any name it is given (``Langevin(..., trajectory="md.xyz")``
    writes one), which was read as extended XYZ by its name and refused ('cannot read
    md.xyz as extxyz with ASE (UnicodeDecodeError ...); cut off ...?')."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(ULM_MAGIC)) == ULM_MAGIC
    except OSError:
        return False


def trajectory_format(files: Sequence[Path], explicit: str | None = None) -> str | None:
    """The ASE format of a run's trajectory files (``explicit`` if given), or None when
    they are LAMMPS files; refuses a mix."""
    if explicit:
        return explicit
    kinds = {ase_format(f) for f in files}
    if len(kinds) > 1:
        raise AnalysisError(f"trajectory pieces of different kinds ({', '.join(str(f) for f in files)}); "
                            f"analyse one kind per run directory")
    return kinds.pop() if kinds else None


@dataclass(frozen=True)
class AseFrames:
    """Frames of one run as ASE read them (arrays read-only: shared by a cache)."""

    # (positions (T,N,3), cells (T,3,3)) per file, or per restart inside a file
    pieces: tuple[tuple[np.ndarray, np.ndarray], ...]
    elements: np.ndarray        # (N,)
    masses: np.ndarray          # (N,) amu
    steps: tuple[np.ndarray | None, ...]   # MD step of each frame per piece, where the file says
    frame_fs: float | None      # time between frames, where the file says
    header: dict                # timestep_fs / dump_every / temperature_K: .traj header, INCAR
    sources: dict               # where each header value comes from (for messages)
    temperatures: np.ndarray | None  # kinetic temperature per frame (all files), K
    files: tuple[Path, ...]
    notes: tuple[str, ...] = ()  # why a value a file seems to say is not the run's
    restarts: tuple[str, ...] = ()  # restarts found inside a file (its frames split there)
    # restarts inside a file whose frames' own steps went back (a new dynamics counting from
    # 0): read as given, they superseded every frame before them (half a run lost, silently)
    renumbered: tuple[str, ...] = ()


def _read_one(path: Path, fmt: str):
    from ase.io import read

    if not path.is_file():
        raise AnalysisError(f"trajectory file {path} not found")
    if path.stat().st_size == 0:
        raise AnalysisError(f"trajectory file {path} is empty (did the run start?)")
    _refuse_lammps_xyz(path)
    try:
        images = read(path, index=":", format=fmt)
    except Exception as exc:  # noqa: BLE001 - ASE raises many kinds on bad input
        raise AnalysisError(f"cannot read {path} as {fmt} with ASE ({type(exc).__name__}: "
                            f"{exc}); cut off (a run killed while writing: cut the file after "
                            f"its last whole frame), or another format (--trajectory-format)?") from exc
    if not images:
        raise AnalysisError(f"{path} has no frames (empty or truncated)")
    return images


LAMMPS_XYZ_COMMENT = re.compile(r"\s*Atoms\. Timestep: \d+\s*$")


def _refuse_lammps_xyz(path: Path) -> None:
    """A LAMMPS ``dump xyz`` file (comment line `` Atoms. Timestep: N``) holds neither the
    box nor atom ids: its atoms cannot be unwrapped, nor followed once LAMMPS reorders
    them. Say so, instead of ASE's error on its type numbers."""
    with open(path, errors="replace") as fh:
        head = [fh.readline() for _ in range(2)]
    if LAMMPS_XYZ_COMMENT.match(head[1]):
        raise AnalysisError(f"{path} is a LAMMPS 'dump xyz' file: it has no box and no atom "
                            f"ids, so its atoms cannot be unwrapped; dump 'custom ... id type "
                            f"x y z' (or 'dcd') in the run instead, with the data file beside it")


def _incar_words(path: Path) -> dict[str, list[str]]:
    """INCAR tags (upper case) -> their value words; ``#``/``!`` comments, ``;`` separators."""
    tags = {}
    for line in path.read_text(errors="replace").splitlines():
        for item in line.split("#")[0].split("!")[0].split(";"):
            key, eq, value = item.partition("=")
            if eq and value.split():
                tags[key.strip().upper()] = value.split()
    return tags


def _incar_array(words: Sequence[str]) -> list[float]:
    """An INCAR array's values, VASP's ``N*x`` (N times x) written out."""
    out = []
    for word in words:
        n, star, x = word.partition("*")
        out += [float(x)] * int(n) if star else [float(word)]
    return out


def _incar_timing(xdatcar: Path) -> dict:
    """timestep_fs, dump_every, temperature_K from the INCAR beside an XDATCAR (an MD
    INCAR: one with POTIM); {} without one."""
    incar = xdatcar.parent / "INCAR"
    if not incar.is_file():
        return {}
    words = _incar_words(incar)
    tags = {key: value[0] for key, value in words.items()}
    if "POTIM" not in tags:
        return {}
    try:
        out = {"timestep_fs": float(tags["POTIM"]), "dump_every": int(tags.get("NBLOCK", 1))}
        if "TEBEG" in tags and float(tags.get("TEEND", tags["TEBEG"])) == float(tags["TEBEG"]):
            why_not = why_tebeg_not_held(words)
            if why_not is None:
                out["temperature_K"] = float(tags["TEBEG"])
            else:                   # said where the temperature is asked for
                out[NO_TEMPERATURE] = f"{incar}: TEBEG = {tags['TEBEG']} but {why_not}"
    except ValueError as exc:
        raise AnalysisError(f"{incar}: cannot read POTIM/NBLOCK/TEBEG/SMASS/MDALGO ({exc}); fix "
                            f"it, or move it away and pass --timestep-fs, --dump-every, "
                            f"--temperature") from exc
    return out


NO_TEMPERATURE = "why_no_temperature"
"""The key under which :func:`_incar_timing` says why its TEBEG is no run temperature."""


def why_tebeg_not_held(words: dict[str, list[str]]) -> str | None:
    """None where the INCAR's run (its tags' value words, :func:`_incar_words`) holds its
    ions at ``TEBEG`` (a thermostat: Nosé, SMASS >= 0; velocity scaling, SMASS = -1;
    MDALGO's Nose-Hoover, NHC, CSVR, Andersen with a collision rate, Langevin with a
    friction for some species; MDALGO = 13's Andersen thermostats where every subsystem's
    TSUBSYS is TEBEG), else why TEBEG is no temperature of the run: VASP's default (SMASS =
    -3, MDALGO = 0) is NVE, TEBEG only its starting temperature, which an NVE run started
    from a lattice loses to the potential energy (about half), and was taken for it; MDALGO
    = 13 holds each subsystem at its own TSUBSYS, not TEBEG (vasp.at wiki: SMASS, MDALGO,
    ANDERSEN_PROB, LANGEVIN_GAMMA (one friction per species), TSUBSYS, PSUBSYS)."""
    def first(key: str, default: str) -> str:
        return words.get(key, [default])[0]

    mdalgo = int(float(first("MDALGO", "0")))
    smass = float(first("SMASS", "-3"))
    nve = ("an NVE run: TEBEG is its starting temperature only, the ions' drifts from it; "
           "give the run's mean temperature (the T column of its OSZICAR)")
    if mdalgo == 0:
        if smass >= 0 or smass == -1:
            return None
        return (f"SMASS = {smass:g}{' (the default)' if 'SMASS' not in words else ''} with "
                f"MDALGO = 0: " + (nve if smass == -3 else "velocities held (no MD)"))
    if mdalgo in (2, 4, 5, 21):
        return None
    if mdalgo == 13:
        return _subsystems_not_at_tebeg(words)
    rate = {1: "ANDERSEN_PROB", 11: "ANDERSEN_PROB", 3: "LANGEVIN_GAMMA"}.get(mdalgo)
    if rate is None:
        return f"MDALGO = {mdalgo}, whose thermostat ionmd does not know"
    # LANGEVIN_GAMMA has one friction per species: any one couples the cell to the bath
    if any(v > 0 for v in _incar_array(words.get(rate, ["0"]))):
        return None
    return f"MDALGO = {mdalgo} with {rate} = {' '.join(words.get(rate, ['0']))}: {nve}"


def _subsystems_not_at_tebeg(words: dict[str, list[str]]) -> str | None:
    """Why an MDALGO = 13 run (up to three subsystems, each with its own Andersen thermostat
    at TSUBSYS, collision rate PSUBSYS) is not held at TEBEG; None where it is."""
    tebeg = float(words["TEBEG"][0])
    temps = _incar_array(words.get("TSUBSYS", []))
    rates = _incar_array(words.get("PSUBSYS", []))
    if temps and all(t == tebeg for t in temps) and rates and all(r > 0 for r in rates):
        return None
    return (f"MDALGO = 13 holds each subsystem at its own TSUBSYS "
            f"({' '.join(words.get('TSUBSYS', ['unset']))}; PSUBSYS "
            f"{' '.join(words.get('PSUBSYS', ['unset']))}), not at TEBEG: give the temperature "
            f"of the mobile ions' subsystem")


def _refuse_one_cell_of_npt_run(xdatcar: Path, cells: np.ndarray) -> None:
    """Refuse an XDATCAR holding one cell for all frames beside an INCAR of an NpT run
    (``ISIF`` >= 3 with ``MDALGO = 3``, VASP's Parrinello-Rahman barostat, whose cell moves
    at every step; VASP writes it before every frame): the file was rewritten by a tool
    that keeps the first lattice only (pymatgen's ``Xdatcar.write_file``), and its
    fractional positions, each of its own frame's cell, were read in the first one (a
    22 %-breathing cell's D 3 % off, silently)."""
    incar = xdatcar.parent / "INCAR"
    if len(cells) < 2 or not incar.is_file() or not np.array_equal(cells, cells[:1].repeat(
            len(cells), axis=0)):
        return
    words = _incar_words(incar)
    try:
        isif, mdalgo = int(words.get("ISIF", ["2"])[0]), int(float(words.get("MDALGO", ["0"])[0]))
    except ValueError:
        return
    if isif >= 3 and mdalgo == 3:
        raise AnalysisError(f"{xdatcar} holds one cell for all its {len(cells)} frames, but "
                            f"{incar} runs NpT (ISIF = {isif}, MDALGO = 3: the cell moves at "
                            f"every step, and VASP writes it before every frame): the file "
                            f"lost its lattices (rewritten by a tool that keeps the first "
                            f"one, such as pymatgen's Xdatcar.write_file), so its positions "
                            f"cannot be placed; analyse VASP's own XDATCAR")


def _file_header(path: Path, fmt: str) -> tuple[dict, str]:
    """timestep_fs, dump_every, temperature_K (those known) from an ASE MD ``.traj``
    header, or the INCAR beside an XDATCAR; and what said them."""
    if fmt == "vasp-xdatcar":
        return _incar_timing(path), str(path.parent / "INCAR")
    if fmt != "traj":
        return {}, ""
    from ase import units
    from ase.io.trajectory import Trajectory

    with Trajectory(str(path)) as t:
        desc = t.description or {}
    if desc.get("type") == "optimization":
        raise AnalysisError(f"{path} was written by an optimizer ({desc.get('optimizer', '?')}), "
                            f"not by MD: no diffusion to analyse")
    out = {}
    if desc.get("timestep"):
        out["timestep_fs"] = round(float(desc["timestep"]) / units.fs, 9)
    if desc.get("interval"):
        out["dump_every"] = int(desc["interval"])
    if desc.get("temperature_K"):
        out["temperature_K"] = float(desc["temperature_K"])
    return out, f"{path.name} (its ASE MD header)"


def _info_steps(images) -> np.ndarray | None:
    if not all("step" in a.info for a in images):
        return None
    return np.array([int(a.info["step"]) for a in images], dtype=np.int64)


def _info_interval_fs(images, path: Path) -> float | None:
    """Time between frames from ``time_fs``/``time_ps`` in every frame's info."""
    for key, scale in (("time_fs", 1.0), ("time_ps", 1e3)):
        if len(images) > 1 and all(key in a.info for a in images):
            dt = np.diff([float(a.info[key]) * scale for a in images])
            if np.any(dt <= 0) or not np.allclose(dt, dt[0], rtol=1e-6, atol=1e-9):
                raise AnalysisError(f"{path}: frames' {key} are not evenly spaced (from "
                                    f"{dt.min():g} to {dt.max():g} fs apart); frames missing?")
            return float(dt[0])
    return None


def _kinetic_temperature(images) -> np.ndarray | None:
    """Kinetic temperature (3N degrees of freedom) of each frame holding momenta."""
    from ase import units

    if not all(a.has("momenta") for a in images):
        return None
    p = np.array([a.get_momenta() for a in images])
    m = images[0].get_masses()
    ekin = 0.5 * np.einsum("tnk,n->t", p * p, 1.0 / m)
    return ekin / (1.5 * len(m) * units.kB)


def _check_frames(images, path: Path, elements: np.ndarray | None) -> np.ndarray:
    symbols = np.array(images[0].get_chemical_symbols())
    if elements is not None and not np.array_equal(symbols, elements):
        raise AnalysisError(f"{path} holds other atoms (or another order) than the piece "
                            f"before it; pieces must be one run")
    for k, a in enumerate(images):
        if len(a) != len(symbols) or a.get_chemical_symbols() != symbols.tolist():
            raise AnalysisError(f"{path}: frame {k} has other atoms than frame 0 (count or "
                                f"order changed); not an MD trajectory of one system?")
        if not all(a.pbc) or abs(a.cell.volume) < 1e-6:
            raise AnalysisError(f"{path}: frame {k} has no periodic 3D cell (pbc {a.pbc.tolist()}, "
                                f"volume {abs(a.cell.volume):.3g} A^3); diffusion in a solid needs "
                                f"the cell (extended XYZ: Lattice=\"...\" pbc=\"T T T\")")
    return symbols


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@lru_cache(maxsize=1)   # a run's files are read for its spec (timing) and then its frames
def _read_cached(key: tuple, fmt: str) -> AseFrames:
    files = tuple(Path(k[0]) for k in key)
    pieces, steps, temps, elements, masses = [], [], [], None, None
    frame_fs, header, sources, notes, restarts, renumbered = None, {}, {}, [], [], []
    for path in files:
        images = _read_one(path, fmt)
        elements = _check_frames(images, path, elements)
        if masses is None:
            masses = images[0].get_masses().astype(np.float64)
        pos = np.array([a.positions for a in images], dtype=np.float64)
        cells = np.array([a.cell.array for a in images], dtype=np.float64)
        if fmt == "vasp-xdatcar":
            _refuse_one_cell_of_npt_run(path, cells)
        cuts = _repeated_frames(pos, cells)
        if cuts:
            restarts.append(f"{path.name}: frame{'s' if len(cuts) > 1 else ''} "
                            f"{', '.join(map(str, cuts))} repeat{'' if len(cuts) > 1 else 's'} "
                            f"the frame before (an MD restarted into the same file writes "
                            f"its start again): the repeat is dropped")
        for a, b in zip((0, *cuts), (*cuts, len(images))):    # a restart's piece each
            pieces.append((_frozen(pos[a:b]), _frozen(cells[a:b])))
            steps.append(_info_steps(images[a:b]))
            if a and steps[-1] is not None and steps[-2] is not None \
                    and steps[-1][0] != steps[-2][-1]:
                renumbered.append(f"{path.name}: the frames from frame {a} on (a restart) "
                                  f"give steps from {steps[-1][0]}, but their first repeats "
                                  f"the frame before, at step {steps[-2][-1]}: their steps "
                                  f"are counted on from there (a new dynamics counts from 0)")
                steps[-1] = steps[-1] + (steps[-2][-1] - steps[-1][0])
            temps.append(_kinetic_temperature(images[a:b]))
            interval = _info_interval_fs(images[a:b], path)
            if interval is not None and frame_fs is not None and _differ(interval, frame_fs):
                raise AnalysisError(f"{path}: frames are {interval:g} fs apart, those of the "
                                    f"piece before {frame_fs:g} fs")
            frame_fs = interval if interval is not None else frame_fs
        said, source = _file_header(path, fmt)
        if NO_TEMPERATURE in said:
            notes.append(said.pop(NO_TEMPERATURE))
        for k, v in said.items():
            if k in header and _differ(v, header[k]):
                raise AnalysisError(f"{source} says {k} = {v:g}, {sources[k]} {header[k]:g}: "
                                    f"pieces of one run must agree")
            header[k], sources[k] = v, source
    if any(s is not None for s in steps) and any(s is None for s in steps):
        raise AnalysisError(f"some pieces of {', '.join(map(str, files))} give each frame's step "
                            f"and some do not; give all or none")
    temperature = (_frozen(np.concatenate(temps)) if all(t is not None for t in temps) else None)
    return AseFrames(tuple(pieces), _frozen(elements), _frozen(masses), tuple(steps), frame_fs,
                     header, sources, temperature, files, tuple(dict.fromkeys(notes)),
                     tuple(restarts), tuple(renumbered))


def _repeated_frames(pos: np.ndarray, cells: np.ndarray) -> list[int]:
    """Indices of frames equal to the frame before (positions and cell to 1e-8 A): the
    first frame of an MD restarted into the file it wrote (ASE MD with
    ``append_trajectory=True`` writes its starting state again; a dynamics run twice
    on one writer too). MD moves every atom at every step, so no frame of one run
    repeats the one before; the copy held the clock one frame back and put a zero step
    into the MSD."""
    if len(pos) < 2:
        return []
    same = (np.abs(np.diff(pos, axis=0)).max(axis=(1, 2)) <= 1e-8) & \
        (np.abs(np.diff(cells, axis=0)).max(axis=(1, 2)) <= 1e-8)
    return (np.flatnonzero(same) + 1).tolist()


def read_ase(files: Sequence[str | Path], fmt: str) -> AseFrames:
    """All frames of a run's trajectory files (in run order) through ``ase.io.read``
    (cached: a run's spec and its analysis read them once)."""
    key = []
    for f in files:
        p = Path(f)
        if not p.is_file():
            raise AnalysisError(f"trajectory file {p} not found")
        incar = p.parent / "INCAR"     # read with an XDATCAR: its edits count too
        key.append((str(p.resolve()), _stamp(p),
                    _stamp(incar) if fmt == "vasp-xdatcar" and incar.is_file() else None))
    return _read_cached(tuple(key), fmt)


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def _differ(a: float, b: float) -> bool:
    return not math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)


def resolve_timing(frames: AseFrames, given: dict, needed: Sequence[str] = tuple(OPTIONS)) -> dict:
    """``timestep_fs``, ``dump_every`` and ``temperature_K`` of a run from what its files
    say and what ``given`` (run.json and flags; None = not given) says; ``needed``: those
    that must be known (:func:`read_ase_trajectory` needs no temperature).

    Raises
    ------
    AnalysisError
        If a value is given and the file says another, or a value is known nowhere
        (the message names the flag to pass).
    """
    what = ", ".join(f.name for f in frames.files)
    from_file, sources = dict(frames.header), dict(frames.sources)
    file_steps = [s for s in frames.steps if s is not None]
    if file_steps:
        spacing = np.unique(np.concatenate([np.diff(s) for s in file_steps]))
        if spacing.size != 1 or spacing[0] <= 0:
            raise AnalysisError(f"{what}: frames' steps are not evenly spaced (spacings "
                                f"{spacing.tolist()[:5]}); frames missing or pieces out of order?")
        if "dump_every" in from_file and from_file["dump_every"] != int(spacing[0]):
            raise AnalysisError(f"{what}: frames are {int(spacing[0])} steps apart but "
                                f"{sources['dump_every']} says {from_file['dump_every']}")
        from_file["dump_every"], sources["dump_every"] = int(spacing[0]), what
    out = dict(from_file)
    for key, flag in OPTIONS.items():
        value = given.get(key)
        if value is None:
            continue
        if key in from_file and _differ(value, from_file[key]):
            raise AnalysisError(f"{sources.get(key, what)} says {key} = {from_file[key]:g} but "
                                f"{value:g} was given ({flag} or run.json); drop the option or "
                                f"check the file")
        out[key] = int(value) if key == "dump_every" else float(value)
    if frames.frame_fs is not None:    # time between frames = timestep x dump_every
        dt, every = out.get("timestep_fs"), out.get("dump_every")
        if dt is None and every is not None:
            out["timestep_fs"] = frames.frame_fs / every
        elif dt is not None and every is None:
            every = round(frames.frame_fs / dt)
            if every < 1 or _differ(every * dt, frames.frame_fs):
                raise AnalysisError(f"{what}: frames are {frames.frame_fs:g} fs apart, not a "
                                    f"whole number of {dt:g} fs time steps; check --timestep-fs")
            out["dump_every"] = int(every)
        elif dt is not None and _differ(dt * every, frames.frame_fs):
            raise AnalysisError(f"{what}: frames are {frames.frame_fs:g} fs apart (their time "
                                f"info) but time step {dt:g} fs x dump_every {every} = "
                                f"{dt * every:g} fs; check --timestep-fs and --dump-every")
    missing = [k for k in OPTIONS if k in needed and out.get(k) is None]
    if missing:
        flags = " and ".join(f"{OPTIONS[k]} (VASP: {VASP_TAGS[k]})" for k in missing)
        keys = ", ".join(missing)
        why = "".join(f" ({note})" for note in frames.notes if "temperature_K" in missing)
        raise AnalysisError(f"{what} does not say {keys}{why}: pass {flags}, or put {keys} in "
                            f"run.json (steps between frames x time step = time between "
                            f"frames; from Python, {keys} of read_ase_trajectory or of "
                            f"load_run_spec's overrides)")
    if out["dump_every"] < 1 or out["timestep_fs"] <= 0:
        raise AnalysisError(f"{what}: need --timestep-fs > 0 and --dump-every >= 1, got "
                            f"{out['timestep_fs']:g} and {out['dump_every']}")
    return out


def restart_notes(frames: AseFrames, timing: dict) -> list[str]:
    """What :func:`resolve_timing`'s ``timing`` assumes of the frames after a restart found
    inside a file (:attr:`AseFrames.restarts`): without each frame's step, that they are
    ``dump_every`` steps apart as before it. ASE writes the header (time step, interval) of
    the dynamics that opened the file only; one appended by another says nothing of its
    own ``loginterval`` (a restart at another interval read as this one would scale its
    clock). Where the frames give their steps: each restart whose steps were counted on
    from its repeated frame (:attr:`AseFrames.renumbered`)."""
    if not frames.restarts or any(s is not None for s in frames.steps):
        return list(frames.renumbered)
    return [f"{restart}; the frames after it are taken {timing['dump_every']} steps of "
            f"{timing['timestep_fs']:g} fs apart as before, which the file does not say of "
            f"an appended restart (ASE keeps its first dynamics' header): where the restart "
            f"logged at another interval or time step, the clock after it is wrong: analyse "
            f"the frames before and after it apart (ase.io.read's index=':N' and 'N:')"
            for restart in frames.restarts]


def frame_steps(frames: AseFrames, dump_every: int) -> list[np.ndarray]:
    """MD step of each frame, per file: the file's own ``step`` info, else numbered on from
    the piece before (step 0 first); a piece whose first frame repeats the last one (ASE MD
    restarted into a new file writes its start again) starts at that frame's step, so that
    :func:`~ionmd.analysis.stitching.stitch` drops it."""
    out = []
    for k, ((pos, cells), steps) in enumerate(zip(frames.pieces, frames.steps)):
        if steps is None:
            start = 0
            if k:
                prev_pos, prev_cells = frames.pieces[k - 1]
                repeat = (np.allclose(pos[0], prev_pos[-1], rtol=0, atol=1e-8)
                          and np.allclose(cells[0], prev_cells[-1], rtol=0, atol=1e-8))
                start = int(out[-1][-1]) + (0 if repeat else dump_every)
            steps = start + dump_every * np.arange(len(pos), dtype=np.int64)
        out.append(np.asarray(steps, dtype=np.int64))
    return out


def read_ase_frames(files: Sequence[str | Path], fmt: str,
                    dump_every: int) -> tuple[Piece, np.ndarray, np.ndarray]:
    """Raw stitched frames, elements and masses of ASE-readable trajectory files, as
    :func:`ionmd.analysis.trajectory.read_frames` gives them for LAMMPS files (positions as
    written, unwrapped later by the same code). The cached frames go into :func:`stitch`
    as they are (read-only): it copies the frames it keeps, so a copy of its own here only
    held a third copy of the positions (18 MB more at the peak for 3000 frames of 256
    atoms)."""
    frames = read_ase(files, fmt)
    pieces = [Piece(pos, cells, steps)
              for (pos, cells), steps in zip(frames.pieces, frame_steps(frames, dump_every))]
    return stitch(pieces), frames.elements.copy(), frames.masses.copy()


def kinetic_thermo(files: Sequence[str | Path], fmt: str, dump_every: int) -> dict:
    """``{"Step", "Temp"}`` from the frames' momenta (empty without them): what the
    failure checks read from a LAMMPS log."""
    from ionmd.lammps.thermo_log import run_rows

    frames = read_ase(files, fmt)
    if frames.temperatures is None:
        return {}
    # the steps stitch() keeps, as a LAMMPS log's rows: a piece that goes back to step s
    # (resumed from an earlier checkpoint) supersedes the frames before it from s on
    steps = frame_steps(frames, dump_every)
    temps = np.split(np.asarray(frames.temperatures), np.cumsum([len(s) for s in steps])[:-1])
    rows = run_rows([(["Step", "Temp"], np.column_stack([s, t]).tolist())
                     for s, t in zip(steps, temps) if len(s)])
    return {"Step": np.array([int(row[0]) for _, row in rows], dtype=np.int64),
            "Temp": np.array([row[1] for _, row in rows])}


def read_ase_trajectory(files: str | Path | Sequence[str | Path], *,
                        timestep_fs: float | None = None, dump_every: int | None = None,
                        fmt: str | None = None):
    """An ASE MD ``.traj``, extended XYZ or VASP ``XDATCAR`` (one file, or the pieces of a
    run in order) as an unwrapped :class:`~ionmd.analysis.trajectory.Trajectory`: the frames
    ``ionmd analyze`` reads, stitched and unwrapped by the same code (no discard, no drift
    removal: :meth:`~ionmd.analysis.trajectory.Trajectory.discard`,
    :meth:`~ionmd.analysis.trajectory.Trajectory.framework_drift_removed`).

    ``timestep_fs`` (fs, not ASE's time unit: ``dyn.dt / ase.units.fs``) and ``dump_every``
    (MD steps between frames, ASE's ``loginterval``, VASP's ``NBLOCK``) are needed where the
    files do not say them (an ASE MD ``.traj`` header does; ``step=``/``time_fs=`` in
    extended XYZ comment lines, the ``INCAR`` beside an ``XDATCAR``); a value given that
    the files contradict is refused. ``fmt``: an ``ase.io.read`` format, by default from
    the file names (:func:`ase_format`).
    """
    import os

    from ionmd.analysis.trajectory import Trajectory

    paths = [Path(files)] if isinstance(files, (str, os.PathLike)) else [Path(f) for f in files]
    if not paths:
        raise AnalysisError("no trajectory files given")
    fmt = trajectory_format(paths, fmt)
    if fmt is None:
        raise AnalysisError(f"{', '.join(map(str, paths))}: not a format read through ASE "
                            f"(.traj, .extxyz, .xyz, XDATCAR); a LAMMPS dump or DCD is read by "
                            f"read_lammps_trajectory with its data file, other ASE formats "
                            f"with fmt=")
    timing = resolve_timing(read_ase(paths, fmt),
                            {"timestep_fs": timestep_fs, "dump_every": dump_every},
                            needed=("timestep_fs", "dump_every"))
    piece, elements, masses = read_ase_frames(paths, fmt, timing["dump_every"])
    if len(piece.steps) < 2:
        raise AnalysisError(f"{', '.join(map(str, paths))}: fewer than 2 frames; nothing to "
                            f"analyse")
    return Trajectory(piece.unwrapped(), piece.boxes, piece.steps, elements, masses,
                      timing["timestep_fs"], fractions=piece.wrapped_fractions())
