"""Session model files that take minutes to compile (AOTInductor packages) or tens of
seconds to export or deploy in a fresh interpreter (CLI exports, sevenn's deploy), made
by a second process started with the session while the tests before their first use run.

pytest and most tests' ``lmp`` runs use one core (torch and OpenMP on one thread, see
conftest.py and lammps_runner.run_lmp), so on a 2-core machine the other core is mostly
idle while, inline, the eSEN package's compile (~3.5 minutes) held up the whole suite.
The second process runs the same maker functions as an inline fixture would, on the
same arguments and into the same folder, one after the other in order of first use;
each finished file is announced by ``<name>.done`` (its paths, JSON). A maker that fails
there leaves ``<name>.failed`` (its traceback) and the fixture makes the file inline,
so a test sees the same exception as without this module.

Under pytest-xdist (``make test`` runs 2 workers) every worker runs the session fixtures:
the files are made once for all of them in one folder (:func:`shared_dir`), the first
worker starting the second process and the others waiting for its ``.done`` files, and
a file made inline is made under a lock by one worker (:func:`made_once`).

Run as ``python session_exports.py MODEL_DIR NAME...`` (conftest.py does that).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path


def morse_pt2(model_dir: Path) -> Path:
    """A Morse model (tests/contract_models.py) as an AOTInductor package (tens of
    seconds), shared by the package, check and screen tests."""
    from contract_models import ALPHA, D0, R0, RC, MorseNodeEnergy, save_contract_package

    return save_contract_package(MorseNodeEnergy(D0, ALPHA, R0, RC), model_dir / "morse.pt2",
                                 cutoff=RC, elements=["Cl", "Li"], num_layers=2)


def tiny_esen_l1_f64(model_dir: Path) -> tuple[Path, Path]:
    """The tiny one-layer eSEN checkpoint (4 A) and its float64 AOTInductor package (the
    whole model and its 2 stages' forward and vector-Jacobian programs: minutes)."""
    from ionmd.export.esen import export_esen
    from tiny_esen import write_tiny_esen_checkpoint

    checkpoint = write_tiny_esen_checkpoint(model_dir / "tiny_esen_l1.pt", layers=1, cutoff=4.0)
    return checkpoint, export_esen(checkpoint, model_dir / "tiny_esen_l1_f64.pt2",
                                   dtype="float64")


def tiny_staged_f64_pt2(model_dir: Path) -> Path:
    """The tiny SevenNet (tests/tiny_sevennet.py, seed 7) as a float64 AOTInductor package
    with per-layer stages. Its checkpoint is written again in a folder of its own (the
    writer is seeded: the same bytes as conftest's ``tiny_checkpoint``), so the two
    processes never write one file."""
    from ionmd.export import export_sevennet
    from tiny_sevennet import write_tiny_sevennet_checkpoint

    (model_dir / "staged").mkdir(exist_ok=True)
    checkpoint = write_tiny_sevennet_checkpoint(model_dir / "staged" / "tiny_sevennet.pth")
    return export_sevennet(checkpoint, model_dir / "tiny_staged_f64.pt2", dtype="float64",
                           format="aoti")


def _cli_export(*args: str) -> None:
    """``ionmd export ...`` in a fresh interpreter, as users run it."""
    subprocess.run([sys.executable, "-m", "ionmd.cli", "export", *args], check=True,
                   capture_output=True, text=True)


def sevennet0_cueq(model_dir: Path) -> Path:
    """7net-0 with cuEquivariance kernels through the CLI (float64, no stages): its layers
    have unequal multiplicities (SevenNet's gcd path); used by test_pair_kernels.py."""
    out = model_dir / "sevennet0_cueq.pt"
    _cli_export("sevennet", "7net-0", "--dtype", "float64", "--kernels", "cueq",
                "--no-stages", "-o", str(out))
    return out


def tiny_cueq_f64_pt2(model_dir: Path) -> Path:
    """The tiny SevenNet with cuEquivariance kernels (reference method ``naive``) as a
    float64 AOTInductor package without stages (a compile of minutes), checkpoint in a
    folder of its own as for :func:`tiny_staged_f64_pt2`."""
    from ionmd.export import export_sevennet
    from tiny_sevennet import write_tiny_sevennet_checkpoint

    (model_dir / "cueq").mkdir(exist_ok=True)
    checkpoint = write_tiny_sevennet_checkpoint(model_dir / "cueq" / "tiny_sevennet.pth")
    return export_sevennet(checkpoint, model_dir / "tiny_cueq_f64.pt2", dtype="float64",
                           kernels="cueq", kernel_method="naive", format="aoti", stages=False)


WHEEL_EXPORTS = {"7net-l3i5": None, "7net-mf-0 PBE": "PBE", "7net-mf-0 R2SCAN": "R2SCAN"}
"""The sevenn wheel's other checkpoints (and modals) test_export_sevennet.py exports."""


def sevennet_wheel_exports(model_dir: Path) -> tuple[Path, ...]:
    """Each of :data:`WHEEL_EXPORTS` through the CLI with its default options (``--modal``
    where it has one), in that order: tens of seconds each."""
    outs = []
    for key, modal in WHEEL_EXPORTS.items():
        out = model_dir / f"wheel_{key.replace(' ', '_')}.pt"
        _cli_export("sevennet", key.split()[0], "-o", str(out),
                    *(["--modal", modal] if modal else []))
        outs.append(out)
    return tuple(outs)


def sevennet_deployed(model_dir: Path) -> Path:
    """The sevenn fixture checkpoint deployed by sevenn's own deploy (serial file
    ``deployed_serial.pt``) and deploy_parallel (``deployed_parallel_*.pt``) in a fresh
    interpreter (one that holds the float64 reference's patched OnehotEmbedding.forward
    cannot script it); their folder."""
    out = model_dir / "sevennet_deployed"
    out.mkdir(exist_ok=True)
    script = ("import sys\nfrom sevenn.scripts.deploy import deploy, deploy_parallel\n"
              "deploy(sys.argv[1], sys.argv[2] + '/deployed_serial.pt')\n"
              "deploy_parallel(sys.argv[1], sys.argv[2] + '/deployed_parallel')\n")
    checkpoint = Path(__file__).parent / "fixtures" / "sevennet_0.11.2.post1_xplor_linear.pth"
    subprocess.run([sys.executable, "-c", script, str(checkpoint), str(out)], check=True,
                   capture_output=True, text=True)
    return out


MAKERS = {"morse_pt2": morse_pt2, "tiny_esen_l1_f64": tiny_esen_l1_f64,
          "tiny_staged_f64_pt2": tiny_staged_f64_pt2, "sevennet0_cueq": sevennet0_cueq,
          "tiny_cueq_f64_pt2": tiny_cueq_f64_pt2,
          "sevennet_wheel_exports": sevennet_wheel_exports,
          "sevennet_deployed": sevennet_deployed}


def _as_paths(value):
    return tuple(Path(v) for v in value) if isinstance(value, list) else Path(value)


def xdist_worker() -> str | None:
    """This process's pytest-xdist worker id (``gw0``...), None outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def shared_dir(tmp_path_factory, name: str) -> Path:
    """A folder of the session that every xdist worker sees (the workers' base folders
    are ``<session>/popen-gwN``), or a new one of this process outside xdist."""
    if xdist_worker() is None:
        return tmp_path_factory.mktemp(name)
    path = tmp_path_factory.getbasetemp().parent / name
    path.mkdir(exist_ok=True)
    return path


@contextmanager
def locked(path: Path):
    """An exclusive lock on ``path`` (created) for the block: one process at a time."""
    import fcntl

    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def made_once(model_dir: Path, name: str, make):
    """``make()`` (a path or a tuple of paths) run by one process for all that share
    ``model_dir``: the others wait for it and read its ``<name>.done``. A ``make`` that
    raises leaves no ``.done``, so the next caller runs it again and sees the error too."""
    done = model_dir / f"{name}.done"
    with locked(model_dir / f"{name}.lock"):
        if done.exists():
            return _as_paths(json.loads(done.read_text()))
        value = make()
        _write_done(done, value)
        return value


def _write_done(done: Path, value) -> None:
    paths = [str(v) for v in value] if isinstance(value, tuple) else str(value)
    tmp = done.with_name(done.name + ".tmp")
    tmp.write_text(json.dumps(paths))
    tmp.rename(done)      # whole or absent


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs (an exited child not yet waited for is a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (OSError, IndexError):
        return False


class SessionExports:
    """The second process making ``names`` (in that order) into ``model_dir``; started by
    the first of the processes (xdist workers) that share ``model_dir``."""

    def __init__(self, model_dir: Path, names: list[str]):
        self.model_dir = Path(model_dir)
        self.names = list(names)
        self.proc = None
        self.pid = None
        if not self.names:
            return
        pidfile = self.model_dir / "session_exports.pid"
        with locked(self.model_dir / "session_exports.lock"):
            if pidfile.exists():                # another worker started it
                self.pid = int(pidfile.read_text())
                return
            env = dict(os.environ, OMP_NUM_THREADS="1")
            self.log = open(self.model_dir / "session_exports.log", "w")
            self.proc = subprocess.Popen(
                [sys.executable, __file__, str(self.model_dir), *self.names],
                cwd=Path(__file__).parent, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                start_new_session=True)    # its own group: stop() ends its compilers too
            self.pid = self.proc.pid
            pidfile.write_text(str(self.pid))

    def _making(self) -> bool:
        return self.proc.poll() is None if self.proc is not None else _running(self.pid)

    def result(self, name: str):
        """The maker's return value, waiting for the second process to finish it; made
        inline where that process did not (not asked, failed, or stopped)."""
        done = self.model_dir / f"{name}.done"
        if name in self.names:
            while not done.exists() and not (self.model_dir / f"{name}.failed").exists() \
                    and self._making():
                time.sleep(0.5)
        return made_once(self.model_dir, name, lambda: MAKERS[name](self.model_dir))

    def stop(self, session=None) -> None:
        """Ends the second process if this one started it. Under xdist another worker may
        still wait for its files: then it is left to finish them (every name is used by a
        test of the session), unless the session is stopping early (-x, a signal)."""
        if self.proc is None:
            return
        if xdist_worker() is not None and session is not None:
            while self.proc.poll() is None and not (session.shouldstop or session.shouldfail):
                time.sleep(0.5)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()


def main(model_dir: str, *names: str) -> int:
    import torch

    torch.set_num_threads(1)    # as conftest sets it for the tests
    model_dir = Path(model_dir)
    for name in names:
        t0 = time.time()
        try:
            value = MAKERS[name](model_dir)
        except BaseException:
            (model_dir / f"{name}.failed").write_text(traceback.format_exc())
            continue
        _write_done(model_dir / f"{name}.done", value)
        print(f"{name}: {time.time() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main(*sys.argv[1:]))
