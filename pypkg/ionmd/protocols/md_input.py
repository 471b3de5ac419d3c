"""A run piece's LAMMPS input: the protocol's template (:data:`INPUTS`, or the
protocol's own) rendered for piece ``k``, fresh or resumed from a restart file, with the
thermostat, barostat, ``fix halt``, the order of the restart files the piece writes, and
(inputs version 5) a Nose-Hoover NpT temperature ramp run in chunks that reset the barostat's
mass (:data:`CHUNKED_RAMP_VERSION`)."""

from __future__ import annotations

import math
import re
import string
from pathlib import Path

from ionmd.analysis.run_files import SETTINGS
from ionmd.errors import IonmdError
from ionmd.protocols.prepare import data_file_triclinic, resolve_couple
from ionmd.protocols.presets import Protocol
from ionmd.protocols.rundir import DATA, RunDir


def _inputs_dir() -> Path:
    """The ``inputs/`` templates: installed next to the package by the wheel (CMake
    install rule), or the repository's own directory when run from a checkout."""
    installed = Path(__file__).resolve().parents[1] / "inputs"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[3] / "inputs"


INPUTS = _inputs_dir()


def template_path(rd: RunDir) -> Path:
    return protocol_template(rd.protocol)


def protocol_template(p: Protocol) -> Path:
    """The input template a protocol's runs render: its own, else the preset's."""
    path = Path(p.template) if p.template else INPUTS / f"{p.family}.lmp"
    if not path.is_file():
        raise IonmdError(f"input template {path} not found; give an existing file as "
                         f"'template', or reinstall ionmd (`make install`), which installs the templates")
    return path


V0_RE = re.compile(r"^IONMD_V0 (\S+)\s*$", re.M)
"""The line the first piece prints with the volume at the start of its MD."""


def halt_reference_volume(rd: RunDir) -> float:
    """V0 of ``fix halt`` in a resumed piece: the volume at the start of the MD (after
    the relaxation), as the first piece printed it, so that every piece checks against
    the same volume the failure analysis compares with. A directory whose first piece
    predates that line checked against the data file's volume and keeps it.

    Raises
    ------
    IonmdError
        If the first piece's log is gone.
    """
    from ase.io import read

    log = rd.piece(0)["log"]
    if not log.is_file():
        raise IonmdError(f"{log} is missing: its IONMD_V0 line is the reference volume of "
                         f"fix halt; restore it, or delete the pieces' files and restart.* "
                         f"to rerun from the start")
    found = V0_RE.search(log.read_text(errors="replace"))
    if found:
        return float(found.group(1))
    return float(read(rd.path / DATA, format="lammps-data", atom_style="atomic").get_volume())


def render_md(rd: RunDir, k: int, restart: Path | None) -> str:
    """Input text of piece ``k`` (fresh when ``restart`` is None)."""
    p, T0 = rd.protocol, rd.temperature
    T1 = p.temperature_end if p.temperature_end is not None else T0
    P0 = p.pressure_bar
    P1 = p.pressure_end_bar if p.pressure_end_bar is not None else P0
    tdamp, pdamp = p.tdamp_fs / 1000.0, p.pdamp_fs / 1000.0
    version = rd.inputs_version
    if version < 2:
        # written before versions were recorded: the coupling it ran with (a directory
        # recorded with aniso, the default then, is reopened by today's default auto)
        couple = "aniso" if p.couple == "auto" else p.couple
    else:
        couple = resolve_couple(p, data_file_triclinic(rd.path / DATA))
    if p.thermostat == "nose-hoover":
        ens = (f"fix             ens all nvt temp {T0} {T1} {tdamp}" if p.ensemble == "nvt" else
               f"fix             ens all npt temp {T0} {T1} {tdamp} {couple} {P0} {P1} {pdamp}")
    else:
        ens = ("fix             ens all nve\n"
               f"fix             tstat all temp/berendsen {T0} {T1} {tdamp}")
        if p.ensemble == "npt":
            ens += (f"\nfix             pstat all press/berendsen {couple} {P0} {P1} {pdamp} "
                    f"modulus {p.berendsen_modulus_bar}")
    if restart is None:
        start = f"read_data       {DATA}"
        prepare = []
        relax = p.relax
        if version < 3:
            # as it recorded: conductivity-nvt did not relax before version 3, and its
            # folders are reopened by today's relax=true (run_settings._as_recorded)
            relax = bool(rd.read_json(SETTINGS).get("protocol", {}).get("relax", p.relax))
        if relax and version < 3:
            # as these folders started: NVT relaxed the atoms only, in the data file's
            # cell; NpT stopped after 200 iterations of vmax 1e-4 (at most ~2 % per length)
            if p.ensemble == "npt":
                prepare.append(f"fix             relax all box/relax {couple} {P0}")
            prepare += ["minimize        1.0e-8 1.0e-4 200 2000"]
            if p.ensemble == "npt":
                prepare.append("unfix           relax")
            prepare.append("reset_timestep  0")
        elif relax:
            triclinic = data_file_triclinic(rd.path / DATA)
            relax_with = couple if p.ensemble == "npt" else relax_couple(p, triclinic)
            # version 3: one coupled minimisation per round (kept for its folders)
            prepare += (cell_relaxation(relax_with, P0) if version >= RELAX_IN_ROUNDS_VERSION
                        else cell_relaxation_v3(relax_with, P0))
            prepare.append("reset_timestep  0")
        # Maxwell-Boltzmann velocities without total momentum (`mom yes`: the 3N - 3
        # degrees of freedom LAMMPS's temperature counts). Not `rot yes`: under periodic
        # boundaries angular momentum is no constant of motion, and zeroing it takes 3 more
        # degrees of freedom out of the draw than the temperature accounts for (kept for
        # version-1 directories, which started that way)
        rot = "yes" if version < 2 else "no"
        prepare.append(f"velocity        all create {T0} {rd.velocity_seed} mom yes rot {rot} "
                       f"dist gaussian")
        prepare = "\n".join(prepare)
    else:
        start, prepare = f"read_restart    {restart.name}", ""
    halt = ""
    if p.halt_volume_change is not None:
        # V0: the volume the MD starts from (after the relaxation, as the failure analysis
        # measures it), fixed by the first piece: a cell the relaxation changed by a few %
        # has not failed by that much
        v0 = "$(vol:%.12g)" if restart is None else f"{halt_reference_volume(rd):.12g}"
        halt = ((f'print           "IONMD_V0 {v0}"\n' if restart is None else "")
                + f"variable        dvol equal abs(vol/{v0}-1.0)\n"
                f"fix             halt all halt {p.halt_check_every} v_dvol > "
                f"{p.halt_volume_change} error soft message yes")
    chunk = (ramp_chunk_steps(p, T0, rd.target_step) if version >= CHUNKED_RAMP_VERSION
             else None)
    subs = dict(start=start, model=str(rd.model.resolve()), elements=" ".join(rd.elements),
                prepare=prepare, timestep=p.timestep_fs / 1000.0, ensemble=ens, halt=halt,
                thermo_every=p.thermo_every, dump_every=p.dump_every,
                trajectory=rd.piece(k)["trajectory"].name,
                dump_modify="dump_modify     traj unwrap yes" if p.ensemble == "nvt" else "",
                restart_every=p.restart_every, restart_files=_restart_order(restart),
                steps=rd.target_step, data=DATA,
                temperature=T0, pressure=P0, seed=rd.velocity_seed,
                ramp_chunks=f"post no every {chunk} NULL" if chunk else "")
    template = template_path(rd).read_text()
    if chunk:
        template = _with_ramp_chunks(template, template_path(rd))
    try:
        text = string.Template(template).substitute(subs)
    except (KeyError, ValueError) as exc:
        raise IonmdError(f"template {template_path(rd)} uses an unknown placeholder {exc}; "
                         f"known: {', '.join(sorted(subs))}") from exc
    if chunk:
        text = _ramp_in_chunks(text, chunk, template_path(rd), aligned=restart is None)
    return _restart_order_kept(without_end_restart_rename(text), restart)


CHUNKED_RAMP_VERSION = 5
"""First inputs version whose Nose-Hoover NpT temperature ramp runs in chunks
(:func:`ramp_chunk_steps`). LAMMPS's fix npt sets the barostat's mass, W = (N+1) k_B
T_target pdamp^2, in ``FixNH::setup`` only (its ``omega_mass_flag`` is 0; the thermostat's
masses follow the target every step, ``eta_mass_flag`` 1): a ramp run as one ``run`` kept
the mass of its first step's target (300 K up to 2100 K in ``stability``: the barostat's
period sqrt(7) = 2.6x shorter than pdamp at the end), and a piece resumed from a restart
got the mass of its own first step (another trajectory than the uninterrupted run's).
Every chunk is a ``run`` of its own (``run N upto start 0 stop N post no every C NULL``:
``start``/``stop`` keep the ramp's schedule, each chunk's setup sets the mass at its
target), on a grid of C steps from step 0 that holds the restart files' steps, so a piece
resumed from one runs the chunks the uninterrupted run does."""
RAMP_CHUNK_TARGET_STEP = 0.025
"""A chunk is at most as long as the target takes to move by this fraction of the ramp's
lower end (the barostat's mass by 2.5 %, its period by 1.25 %)."""
RAMP_CHUNK_MIN_STEPS = 100
"""... and, where the restart spacing allows, at least this many steps: each chunk's
setup computes the forces once more (1 % more force calls at most; a faster ramp gets
chunks of this length, its mass a step behind by more than RAMP_CHUNK_TARGET_STEP)."""
RAMP_CHUNKS_PLACEHOLDER_RE = re.compile(r"\$(?:ramp_chunks\b|\{ramp_chunks\})")
STANDARD_RUN_RE = re.compile(r"^([ \t]*run[ \t]+\$steps[ \t]+upto[ \t]+start[ \t]+0[ \t]+stop"
                             r"[ \t]+\$steps)[ \t]*$", re.M)
"""md.lmp's run line, as every template copied from it writes it."""


def ramp_chunk_steps(p: Protocol, T0: float, steps: int) -> int | None:
    """Steps of each chunk of a Nose-Hoover NpT temperature ramp from ``T0`` over ``steps``
    steps (None: no such ramp, run in one ``run``): the longest divisor of
    ``restart_every`` (restart files fall on chunk boundaries) that is a multiple of
    ``thermo_every`` where one is (each chunk's last step prints a row anyway) and in
    which the target moves by at most :data:`RAMP_CHUNK_TARGET_STEP` of the ramp's lower
    end, not shorter than :data:`RAMP_CHUNK_MIN_STEPS` where ``restart_every`` allows.
    ``stability`` (300 -> 2100 K over 50000 steps, restart_every 10000, thermo_every
    100): 200 steps, 7.2 K (2.4 % of 300 K) each, one force call more per 200 steps."""
    T1 = p.temperature_end
    if (p.ensemble != "npt" or p.thermostat != "nose-hoover" or T1 is None or T1 == T0
            or steps <= 0):
        return None
    every = max(int(p.restart_every), 1)
    divisors = sorted({d for k in range(1, math.isqrt(every) + 1) if every % k == 0
                       for d in (k, every // k)})
    aligned = [d for d in divisors if p.thermo_every > 0 and d % p.thermo_every == 0] or divisors
    longest = RAMP_CHUNK_TARGET_STEP * min(T0, T1) * steps / abs(T1 - T0)
    fit = [d for d in aligned if RAMP_CHUNK_MIN_STEPS <= d <= longest]
    if fit:
        return fit[-1]
    long_enough = [d for d in aligned if d >= RAMP_CHUNK_MIN_STEPS]
    return long_enough[0] if long_enough else every


def _with_ramp_chunks(template: str, path: Path) -> str:
    """``template`` with ``$ramp_chunks`` at the end of its run line, where it has none:
    md.lmp's run line (``run $steps upto start 0 stop $steps``, which every copy of it
    has) gets it; a template with neither is refused (its ramp would run with the first
    step's barostat mass).

    Raises
    ------
    IonmdError
        If the template has no ``$ramp_chunks`` and not md.lmp's run line once.
    """
    if RAMP_CHUNKS_PLACEHOLDER_RE.search(template):
        return template
    found, n = STANDARD_RUN_RE.subn(r"\1 $ramp_chunks", template)
    if n != 1:
        raise IonmdError(
            f"template {path} runs a Nose-Hoover NpT temperature ramp, which ionmd runs in "
            f"chunks so that the barostat's mass follows the ramp (LAMMPS's fix npt sets it "
            f"once per run command), but its run line is not md.lmp's 'run $steps upto start 0 "
            f"stop $steps' ({'found ' + str(n) + ' times' if n else 'not found'}); end the "
            f"MD's run line with $ramp_chunks (run $steps upto start 0 stop $steps "
            f"$ramp_chunks), or run the ramp with thermostat=berendsen")
    return found


RAMP_RUN_RE = re.compile(r"^[ \t]*run[ \t]+(\d+)[ \t]+(upto\b.*?)[ \t]+post no every (\d+) NULL"
                         r"[ \t]*$", re.M)


def _ramp_in_chunks(text: str, chunk: int, path: Path, aligned: bool) -> str:
    """The rendered input with its chunked run line checked (``upto`` and ``start 0
    stop N``: the ramp's schedule over the chunks, which each ramp over their own steps
    without them) and, in a resumed piece (``aligned`` False), preceded by a run to the
    next step on the chunk grid: a piece resumed from restart.end at a frame between two
    chunk boundaries then runs the uninterrupted run's chunks.

    Raises
    ------
    IonmdError
        If the run line that got the chunks lacks ``upto`` or ``start 0 stop N``.
    """
    def check(m: re.Match) -> str:
        n, rest = m.group(1), m.group(2)
        if not re.search(rf"\bstart\s+0\s+stop\s+{n}\b", rest):
            raise IonmdError(
                f"template {path}: the run line with $ramp_chunks ({m.group(0).strip()}) "
                f"lacks 'upto ... start 0 stop {n}': each chunk would ramp over its own steps; "
                f"write it as 'run $steps upto start 0 stop $steps $ramp_chunks'")
        if aligned:
            return m.group(0)
        indent = m.group(0)[:len(m.group(0)) - len(m.group(0).lstrip())]
        grid = f"{chunk}*ceil(step/{chunk})"      # LAMMPS's min() is for computes only
        return (f'{indent}if              "$(step % {chunk}) != 0" then "run '
                f'$(ternary({grid}>{n},{n},{grid})) {rest} post no"\n{m.group(0)}')

    found, n = RAMP_RUN_RE.subn(check, text)
    if n == 0:
        raise IonmdError(f"template {path}: $ramp_chunks must end the MD's run line (run "
                         f"$steps upto start 0 stop $steps $ramp_chunks)")
    return found


RELAX_V3_ROUNDS = 10
"""Inputs version 3: most minimisations of the cell relaxation before the MD. Each
starts from the cell the one before reached (fix box/relax anew: its reference cell is the
current one, as LAMMPS's manual advises when the minimiser stalls on a box that moved)."""
RELAX_V3_ITERATIONS = 1000
"""Iterations of each of those minimisations (10 evaluations each at most)."""
RELAX_VMAX = 0.001
"""fix box/relax's vmax: at most 0.1 % change of a cell length per iteration. LAMMPS's
default 1e-4 let the 200 iterations ionmd ran before (inputs version 2) change a length by
2 % at most: a SevenNet-0 beta-Li3PS4 cell kept 4.6 GPa of its 8.7 GPa."""
RELAX_V3_PRESSURE_TOL_BAR = 100.0
"""The relaxation has converged when the stress the cell can relax (the pressure with
``iso``; the diagonal with ``aniso``; all six components with ``tri``) is within this of
the target (the root of the summed squares of those components, each shear once: Voigt's
six, not the tensor's nine; in bar; 0.01 GPa, ~0.05 % of the volume of a
solid of 20 GPa bulk modulus)."""
RELAX_RE = re.compile(r"^IONMD_RELAX (converged|NOT converged) .*$", re.M)
"""The line a piece's relaxation prints with its outcome (the first piece's log)."""
RELAX_MAX_VOLUME_RATIO = 2.0
"""The relaxation stops LAMMPS (``IONMD_RELAX diverged``, then :data:`END_INPUT`; version 3
wrote ``quit 3`` before, which ended the module runner's Python) once the volume is
beyond this factor of the input's, either way: a cell the model holds at no volume near
the input's (a model that does not know the structure, a pressure beyond its strength)
grew ~8x per minimisation, its neighbour bins with it, until LAMMPS held 6 GB (review R4);
no MD is run in such a cell."""
RELAX_DIVERGED_RE = re.compile(r"^IONMD_RELAX diverged: (.*)$", re.M)


def relax_couple(p: Protocol, triclinic: bool) -> str:
    """fix box/relax's keyword for the cell relaxation before an NVT run (no barostat
    constrains it): ``couple`` as given, ``auto`` the most the cell allows: ``tri`` (all
    six stress components, LAMMPS's only keyword that relaxes the tilts) on a triclinic
    box, ``aniso`` on an orthogonal one (LAMMPS refuses tilts there).

    Raises
    ------
    IonmdError
        ``couple tri`` on an orthogonal box.
    """
    if p.couple not in ("auto", "iso", "aniso", "tri"):
        raise IonmdError(f"couple {p.couple!r} unknown; use auto, iso, aniso or tri")
    if p.couple == "tri" and not triclinic:
        raise IonmdError("couple tri needs a triclinic cell (LAMMPS's fix box/relax refuses "
                         "tilts on an orthogonal box); use couple=auto or aniso")
    if p.couple != "auto":
        return p.couple
    return "tri" if triclinic else "aniso"


END_INPUT = "jump            /dev/null"
"""Ends LAMMPS's reading of the input, nothing after it run: LAMMPS reads on from an empty
file. Not ``quit``: in the module runner's process (the LAMMPS library) it ends Python
itself, exit status 0, the run's status left 'running'."""


def cell_relaxation_v3(couple: str, pressure: float) -> list[str]:
    """Inputs version 3's relaxation (its folders keep it): LAMMPS lines relaxing atoms
    and cell to ``pressure`` (bar) with fix box/relax ``couple``: minimisations until the
    relaxable stress is within :data:`RELAX_V3_PRESSURE_TOL_BAR` of the target (at most
    :data:`RELAX_V3_ROUNDS`), then an ``IONMD_RELAX`` line saying whether it converged,
    the stress left, the volume and the cell (a run that goes on from a cell that did not
    converge says so in its log and its status). A volume beyond
    :data:`RELAX_MAX_VOLUME_RATIO` of the input's stops LAMMPS before any MD
    (``IONMD_RELAX diverged``: the run fails, saying so; only this branch's text differs
    from what 1ddfbee wrote, and no MD follows it)."""
    fix, residual = _box_relax(couple, pressure)
    tol = f"{RELAX_V3_PRESSURE_TOL_BAR:g}"
    return [
        "# the cell relaxation: minimisations until the stress is within the tolerance",
        "min_modify      line quadratic",
        'variable        relax_ok string "NOT converged"',
        "variable        relax_v0 equal $(vol:%.12g)",
        f"variable        relax_round loop {RELAX_V3_ROUNDS}",
        "label           relax_loop",
        # made anew each round (same ID: replaced): its reference cell is the current one
        fix,
        f"minimize        0.0 1.0e-6 {RELAX_V3_ITERATIONS} {10 * RELAX_V3_ITERATIONS}",
        "variable        relax_ratio equal $(vol/v_relax_v0:%.6g)",
        f'if              "${{relax_ratio}} > {RELAX_MAX_VOLUME_RATIO:g} || ${{relax_ratio}} < '
        f'{1 / RELAX_MAX_VOLUME_RATIO:g}" then "jump SELF relax_diverged"',
        f"variable        relax_dp equal {residual}",
        # kept as a number: the next round's fix replaces this one's pressure compute
        "variable        relax_left equal $(v_relax_dp:%.4g)",
        "variable        relax_n equal ${relax_round}",
        f'if              "${{relax_left}} <= {tol}" then "variable relax_ok string converged" '
        '"jump SELF relax_done"',
        "next            relax_round",
        "jump            SELF relax_loop",
        "label           relax_done",
        f'print           "IONMD_RELAX ${{relax_ok}} after ${{relax_n}} minimisations: stress '
        f'${{relax_left}} bar from {pressure} bar ({couple}; tolerance {tol} bar); '
        'vol $(vol:%.12g) lx $(lx:%.12g) ly $(ly:%.12g) lz $(lz:%.12g) xy $(xy:%.12g) '
        'xz $(xz:%.12g) yz $(yz:%.12g)"',
        "unfix           relax",
        "jump            SELF relax_end",
        # printed at the top level: a print inside an if's command substitutes no variables
        "label           relax_diverged",
        'print           "IONMD_RELAX diverged: the volume went to ${relax_ratio} times that '
        'of the input cell in ${relax_round} minimisation(s) (the limit: '
        f'{RELAX_MAX_VOLUME_RATIO:g}x either way)"',
        # not 'quit 3' (what 1ddfbee wrote): in the module runner it ended Python itself
        END_INPUT,
        "label           relax_end",
    ]


RELAX_IN_ROUNDS_VERSION = 4
"""First inputs version whose relaxation runs in rounds (:func:`cell_relaxation`); a
folder of version 3 keeps :func:`cell_relaxation_v3`."""
RELAX_ROUNDS = 3
"""Most rounds of the cell relaxation (each: the atoms in a fixed cell, then atoms and cell
together). SevenNet-0 on the demo's Li6PS5Cl (docs/presets.md): the second round moved the
volume by 0.027 % (0.37 % after a first round cut at 60 iterations, the third 0.003 %)."""
RELAX_ATOMS_FMAX = 0.05
"""eV/A: the atoms-only minimisation of a round stops once no atom feels more than this
(``min_modify norm max``: ASE's ``fmax``, the usual 0.05 of ML-potential relaxations)."""
RELAX_ATOMS_ITERATIONS = 500
"""Most iterations of that atoms-only minimisation."""
RELAX_CELL_ITERATIONS = 100
"""Most iterations of a round's minimisation of atoms and cell (fix box/relax). On a
model with a rugged energy surface it seldom meets its force tolerance: box/relax's vmax
bounds the one step length of the line search, atoms' and cell's, and the cell swings by
vmax per iteration while the atoms relax (SevenNet-0: +-700 bar, float32 or float64)."""
RELAX_VOLUME_TOL = 0.001
"""The relaxation has converged when the last round changed the volume by less than this
fraction and the stress left is within :data:`RELAX_PRESSURE_TOL_BAR`."""
RELAX_PRESSURE_TOL_BAR = 100.0
"""The relaxable stress left (as :data:`RELAX_V3_PRESSURE_TOL_BAR`), in bar."""
RELAX_FMAX_TOL = RELAX_ATOMS_FMAX
"""eV/A: the relaxation has converged only when no force component on an atom (LAMMPS's
``fmax``) is above this after the last minimisation. The stress and the volume change
alone said 'converged' where both minimisations of a round stopped early (their iteration
caps, or 'linesearch alpha is zero', as SevenNet-0's cell minimisations stop) and the
volume stayed: 256-atom fcc Morse, one atom 0.1 A off its site, caps of 1 iteration:
'converged' with 0.135 eV/A left."""


def cell_relaxation(couple: str, pressure: float) -> list[str]:
    """LAMMPS lines relaxing atoms and cell to ``pressure`` (bar), fix box/relax
    ``couple``, in rounds (at most :data:`RELAX_ROUNDS`): first the atoms in the cell
    they are in (no box degrees of freedom: box/relax's vmax, which bounds the whole line
    search step, would hold the atoms to ~0.002 A per iteration), then atoms and cell
    together. It has converged when a round changed the volume by less than
    :data:`RELAX_VOLUME_TOL`, the relaxable stress left is within
    :data:`RELAX_PRESSURE_TOL_BAR` and no atom's force component is above
    :data:`RELAX_FMAX_TOL`. An ``IONMD_RELAX`` line says whether it converged,
    after how many rounds and minimiser iterations, the stress left, the last round's
    volume change, the largest force component, the volume and the cell (a run that goes
    on from a cell that did not
    converge says so in its log and its status). A volume beyond
    :data:`RELAX_MAX_VOLUME_RATIO` of the input's stops LAMMPS before any MD (``IONMD_RELAX
    diverged``: the run fails, saying so)."""
    fix, residual = _box_relax(couple, pressure)
    tol, vtol, ftol = (f"{RELAX_PRESSURE_TOL_BAR:g}", f"{RELAX_VOLUME_TOL:g}",
                       f"{RELAX_FMAX_TOL:g}")
    return [
        "# the cell relaxation: rounds of the atoms in a fixed cell, then atoms and cell",
        "min_modify      line quadratic norm max",
        'variable        relax_ok string "NOT converged"',
        "variable        relax_v0 equal $(vol:%.12g)",
        "variable        relax_vlast equal ${relax_v0}",
        f"variable        relax_round loop {RELAX_ROUNDS}",
        "label           relax_loop",
        f"minimize        0.0 {RELAX_ATOMS_FMAX:g} {RELAX_ATOMS_ITERATIONS} "
        f"{10 * RELAX_ATOMS_ITERATIONS}",
        # made anew each round: its reference cell is the current one
        fix,
        f"minimize        0.0 1.0e-6 {RELAX_CELL_ITERATIONS} {10 * RELAX_CELL_ITERATIONS}",
        # a template's timer that ended a minimisation: LAMMPS skips every minimize and run
        # after it, and the skipped one left box/relax's pressure compute unset (reading it
        # is an error); the piece ends, interrupted in its relaxation, and reads no more of
        # the input (END_INPUT): the template's write_restart after its skipped run would
        # save the unrelaxed cell at step 0, and the next piece resume from it unrelaxed
        f'if              "$(is_timeout())" then "unfix relax" "{END_INPUT}"',
        "variable        relax_ratio equal $(vol/v_relax_v0:%.6g)",
        f'if              "${{relax_ratio}} > {RELAX_MAX_VOLUME_RATIO:g} || ${{relax_ratio}} < '
        f'{1 / RELAX_MAX_VOLUME_RATIO:g}" then "jump SELF relax_diverged"',
        f"variable        relax_dp equal {residual}",
        # kept as numbers: unfix deletes the pressure compute, the next round moves vol
        "variable        relax_left equal $(v_relax_dp:%.4g)",
        "variable        relax_dv equal $(abs(vol/v_relax_vlast-1):%.3g)",
        "variable        relax_fmax equal $(fmax:%.4g)",
        "variable        relax_vlast equal $(vol:%.12g)",
        "variable        relax_n equal ${relax_round}",
        # the next round's atoms-only minimisation runs without the box degrees of freedom
        "unfix           relax",
        f'if              "${{relax_left}} <= {tol} && ${{relax_dv}} <= {vtol} && '
        f'${{relax_fmax}} <= {ftol}" then "variable relax_ok string converged" '
        '"jump SELF relax_done"',
        "next            relax_round",
        "jump            SELF relax_loop",
        "label           relax_done",
        f'print           "IONMD_RELAX ${{relax_ok}} after ${{relax_n}} round(s), $(step) '
        f'minimiser iterations: stress ${{relax_left}} bar from {pressure} bar ({couple}; '
        f'tolerance {tol} bar); volume change in the last round ${{relax_dv}} (tolerance '
        f'{vtol}); max force component ${{relax_fmax}} eV/A (tolerance {ftol}); '
        'vol $(vol:%.12g) lx $(lx:%.12g) ly $(ly:%.12g) lz $(lz:%.12g) '
        'xy $(xy:%.12g) xz $(xz:%.12g) yz $(yz:%.12g)"',
        "jump            SELF relax_end",
        # printed at the top level: a print inside an if's command substitutes no variables
        "label           relax_diverged",
        'print           "IONMD_RELAX diverged: the volume went to ${relax_ratio} times that '
        'of the input cell in ${relax_round} round(s) (the limit: '
        f'{RELAX_MAX_VOLUME_RATIO:g}x either way)"',
        END_INPUT,
        "label           relax_end",
    ]


TEMPLATE_END_RENAME_RE = re.compile(
    r"""(?P<arg>(?<=["'])[ \t]+(["'])shell[ \t]+mv[ \t]+restart\.end\.part[ \t]+restart\.end\2)"""
    r"""|(?P<line>^[ \t]*shell[ \t]+mv[ \t]+restart\.end\.part[ \t]+restart\.end[ \t]*$)""",
    re.M)
"""The rename of restart.end.part that md.lmp made itself until 3f3dfc6 (``if ... then
"write_restart restart.end.part" "shell mv restart.end.part restart.end"``), as user
templates copied from it still make it: as a further command of an ``if`` (after another
quoted one), or on a line of its own."""


def without_end_restart_rename(text: str) -> str:
    """A rendered input without the template's own rename of restart.end.part to
    restart.end: ionmd renames it once LAMMPS wrote it whole (:func:`settle_end_restart`).
    LAMMPS does not check a restart file's last write, so the template's ``shell mv`` put
    a file a full disk had cut over the whole restart.end, which ionmd then had to remove:
    an extension started over from restart.a/b (or from step 0) where the piece before
    had ended whole."""
    return TEMPLATE_END_RENAME_RE.sub(
        lambda m: "" if m.group("arg") else
        "# shell mv restart.end.part restart.end: done by ionmd once the file is whole", text)


TEMPLATE_RESTART_AB_RE = re.compile(r"^([ \t]*restart[ \t]+\d+[ \t]+)restart\.a[ \t]+restart\.b"
                                    r"(?=[ \t]*(?:#.*)?$)", re.M)
"""md.lmp's ``restart`` line before ``$restart_files`` (90ad165), as user templates copied
from it still write it: restart.a always first."""


def _restart_order_kept(text: str, restart: Path | None) -> str:
    """A rendered input whose ``restart N restart.a restart.b`` (a template written
    before ``$restart_files``) names the files in :func:`_restart_order`: a piece resumed
    from restart.a wrote it first, in place over the state it resumed from."""
    return TEMPLATE_RESTART_AB_RE.sub(lambda m: m.group(1) + _restart_order(restart), text)


def _restart_order(restart: Path | None) -> str:
    """restart.a and restart.b in the order a piece's ``restart`` command writes them
    (LAMMPS writes the first named first, whatever it resumed from): a piece resumed from
    restart.a writes restart.b first, so that its first write (in place: a kill or a full
    disk leaves it cut) never takes the state it resumed from. 'restart.a restart.b'
    wrote a piece resumed from restart.a (restart.b cut by a full disk) over restart.a
    first: a kill there left no whole restart file, and the run started over."""
    return ("restart.b restart.a" if restart is not None and restart.name == "restart.a"
            else "restart.a restart.b")


def _box_relax(couple: str, pressure: float) -> tuple[str, str]:
    """The ``fix box/relax`` line of a relaxation and the LAMMPS expression of the stress
    it can relax, away from ``pressure`` (bar): the scalar pressure with ``iso``, the
    diagonal with ``aniso``, the diagonal and the three shears with ``tri``."""
    fix = f"fix             relax all box/relax {couple} {pressure} vmax {RELAX_VMAX}"
    if couple == "iso":        # box/relax computes the scalar pressure only
        return fix, f"abs(c_relax_press-{pressure})"
    diagonal = [f"(c_relax_press[{i}]-{pressure})^2" for i in (1, 2, 3)]
    shear = [f"c_relax_press[{i}]^2" for i in (4, 5, 6)] if couple == "tri" else []
    return fix, f"sqrt({'+'.join(diagonal + shear)})"
