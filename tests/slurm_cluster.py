"""A real single-node SLURM cluster for tests: Debian's ``slurmctld``, ``slurmd`` and
``munged`` started as root with every file (key, sockets, state, spool, logs, pids) in a
temporary folder and non-default ports, stopped again by their pid files.

The packages (``slurmctld slurmd slurm-client munge``) are installed with ``apt-get`` when
absent. Anything that cannot work (not root, no apt-get, install failure, daemons that do
not come up) raises :class:`SlurmUnavailable` with the reason and the log tail: a test
that needs SLURM fails with that message instead of being skipped.

Run as a script (``python tests/slurm_cluster.py``) it starts a cluster, runs one
``sbatch --wait`` job and stops it, printing how long each stage took.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
BINARIES = ("slurmctld", "slurmd", "sbatch", "squeue", "srun", "scontrol", "munged", "mungekey")


class SlurmUnavailable(RuntimeError):
    """The test cluster cannot be installed or started here."""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def _find(name: str) -> str | None:
    return shutil.which(name) or next((str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name)
                                       if p.is_file()), None)


def ensure_installed() -> float:
    """Install the Debian packages when a binary is missing; returns the seconds spent.

    Raises
    ------
    SlurmUnavailable
        If not root, without apt-get, or if apt-get fails.
    """
    if all(_find(b) for b in BINARIES):
        return 0.0
    missing = [b for b in BINARIES if not _find(b)]
    if os.geteuid() != 0:
        raise SlurmUnavailable(f"SLURM binaries {missing} are missing and this is not root: "
                               f"install {' '.join(PACKAGES)} (Debian) first")
    if not shutil.which("apt-get"):
        raise SlurmUnavailable(f"SLURM binaries {missing} are missing and there is no apt-get: "
                               f"install {' '.join(PACKAGES)} with your package manager")
    t0 = time.time()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]):
        res = _run(cmd, env=env, timeout=900)
        if res.returncode:
            raise SlurmUnavailable(f"`{' '.join(cmd)}` failed (exit {res.returncode}):\n"
                                   f"{(res.stdout + res.stderr)[-3000:]}")
    still = [b for b in BINARIES if not _find(b)]
    if still:
        raise SlurmUnavailable(f"after installing {' '.join(PACKAGES)}, {still} are still missing")
    return time.time() - t0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SlurmCluster:
    """A running single-node cluster; ``env`` makes the client commands use it."""

    root: Path
    conf: Path
    env: dict[str, str]
    node: str
    cpus: int
    timings: dict[str, float] = field(default_factory=dict)
    pidfiles: list[Path] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)

    def read_pids(self) -> None:
        """Remember the daemons' pids (the pid files may be gone by the time they stop)."""
        for pidfile in self.pidfiles:
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if pid not in self.pids:
                self.pids.append(pid)

    def stop(self) -> None:
        """Stop the daemons (slurmd, slurmctld, munged), waiting for each."""
        self.read_pids()
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.time() + 15
            while time.time() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.05)
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)

    def log_tail(self, n: int = 3000) -> str:
        out = []
        for name in ("slurmctld.log", "slurmd.log", "munged.log"):
            f = self.root / name
            if f.is_file():
                out.append(f"--- {name}\n{f.read_text(errors='replace')[-n:]}")
        return "\n".join(out)


SLURM_CONF = """\
ClusterName=ionmdtest
SlurmctldHost={node}
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge.socket,cred_expire=30
SlurmUser=root
SlurmdUser=root
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
NodeName={node} CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
"""


def start_cluster(root: str | Path, timeout: float = 60.0) -> SlurmCluster:
    """Install if needed, then start munged, slurmctld and slurmd with all state in ``root``.

    Raises
    ------
    SlurmUnavailable
        With the daemons' log tails when the node does not become idle in ``timeout`` s.
    """
    t0 = time.time()
    install_s = ensure_installed()
    root = Path(root).resolve()
    for sub in ("state", "spool", "munge"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    node = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    conf = root / "slurm.conf"
    conf.write_text(SLURM_CONF.format(node=node, root=root, cpus=cpus, ctld_port=_free_port(),
                                      slurmd_port=_free_port()))
    env = dict(os.environ, SLURM_CONF=str(conf))
    cluster = SlurmCluster(root=root, conf=conf, env=env, node=node, cpus=cpus,
                           pidfiles=[root / "slurmd.pid", root / "slurmctld.pid", root / "munged.pid"])
    cluster.timings["install_s"] = install_s
    key = root / "munge" / "munge.key"
    steps = [
        [_find("mungekey"), "--create", "--keyfile", str(key), "--force"],
        [_find("munged"), "--key-file", str(key), "--socket", str(root / "munge.socket"),
         "--pid-file", str(root / "munged.pid"), "--log-file", str(root / "munged.log"),
         "--seed-file", str(root / "munge" / "munged.seed"), "--force"],
        [_find("slurmctld"), "-f", str(conf)],
        [_find("slurmd"), "-f", str(conf)],
    ]
    try:
        for cmd in steps:
            res = _run(cmd, env=env, timeout=60)
            cluster.read_pids()
            if res.returncode:
                raise SlurmUnavailable(f"`{' '.join(cmd)}` failed (exit {res.returncode}): "
                                       f"{(res.stdout + res.stderr)[-2000:]}\n{cluster.log_tail()}")
        deadline = time.time() + timeout
        state = ""
        while time.time() < deadline:
            res = _run(["sinfo", "--noheader", "--format=%T", "--nodes", node], env=env, timeout=30)
            state = res.stdout.strip()
            if res.returncode == 0 and state.startswith("idle"):
                break
            time.sleep(0.5)
        else:
            raise SlurmUnavailable(f"node {node} not idle after {timeout:g} s (sinfo: {state!r})\n"
                                   f"{cluster.log_tail()}")
        cluster.read_pids()
    except BaseException:
        cluster.stop()
        raise
    cluster.timings["start_s"] = time.time() - t0 - install_s
    return cluster


@contextmanager
def running_cluster(root: str | Path):
    """:func:`start_cluster` in ``root`` with ``SLURM_CONF`` naming it for the block (its
    earlier value restored after), stopped at the block's end."""
    cluster = start_cluster(root)
    before = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    try:
        yield cluster
    finally:
        if before is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = before
        cluster.stop()


def main() -> None:
    import tempfile

    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="ionmd-slurm-") as tmp:
        cluster = start_cluster(tmp)
        try:
            t1 = time.time()
            res = _run(["sbatch", "--wait", "--output", f"{tmp}/job.out", "--wrap", "hostname"],
                       env=cluster.env, timeout=120)
            print(res.stdout.strip(), res.stderr.strip(), Path(f"{tmp}/job.out").read_text().strip())
            print(f"install {cluster.timings['install_s']:.1f} s, start {cluster.timings['start_s']:.1f} s, "
                  f"one sbatch --wait job {time.time() - t1:.1f} s")
        finally:
            cluster.stop()
    print(f"total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
