"""Shared pieces of the sweep tests: campaign files written next to a Morse model (Li, Cl)
and an fcc Li/Cl cell, and the line of a marker in a file (the reference for the line
numbers that validation errors must name)."""

from __future__ import annotations

import time
from pathlib import Path

from protocol_setup import fcc_cell, morse_model

PROTOCOL = """\
[protocol]
name = "{protocol}"
duration_ps = {duration_ps}
discard_ps = {discard_ps}
dump_every = 10
thermo_every = 10
restart_every = {restart_every}
supercell = "none"
tdamp_fs = 50.0
pdamp_fs = 500.0
"""


def campaign_dir(tmp: Path, morse: Path) -> Path:
    """A folder with ``morse.pt`` (a copy) and ``fcc.cif`` (32 atoms)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "morse.pt").write_bytes(Path(morse).read_bytes())
    fcc_cell().write(tmp / "fcc.cif")
    return tmp


def write_campaign(folder: Path, *, name: str = "c", temperatures=(600, 900), replicas: int = 1,
                   protocol: str = "conductivity", duration_ps: float = 0.5,
                   restart_every: int = 100, discard_ps: float = 0.1, executor: str = 'kind = "local"\ncores = 2',
                   resources: str = "ranks = 1\nwalltime = \"0:10:00\"", extra: str = "",
                   analysis: str = "charges = {Li = 1, Cl = -1}\nmcmc_samples = 50\n"
                                   "fit_start_ps = 0.05\nwindow_ps = 0.2",
                   structures: str = '["fcc.cif"]', models: str = '["morse.pt"]',
                   output: str = "runs") -> Path:
    text = (f'name = "{name}"\noutput = "{output}"\nstructures = {structures}\nmodels = {models}\n'
            f"temperatures = {list(temperatures)}\nreplicas = {replicas}\n{extra}\n"
            + PROTOCOL.format(protocol=protocol, duration_ps=duration_ps,
                              restart_every=restart_every, discard_ps=discard_ps)
            + f"\n[resources]\n{resources}\n\n[executor]\n{executor}\n\n[analysis]\n{analysis}\n")
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def line_of(path: Path, marker: str) -> int:
    """1-based line of the first line of ``path`` containing ``marker``."""
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if marker in line:
            return i
    raise AssertionError(f"{marker!r} not in {path}")


__all__ = ["campaign_dir", "line_of", "morse_model", "write_campaign"]


def wait_for(cond, timeout: float = 120.0, what: str = "") -> None:
    """Poll ``cond`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
