"""``ionmd sweep collect`` and ``status`` read the campaign's model file once per command,
not once per run folder (``RunDir.settings`` asks for its digest and identity for each
run: 100 runs of a 500 MB model added ~100 s to every collect). The digest is kept per
state of the file (protocols/run_settings.py ``file_hash``, ``model_hash``): a file
changed in place is read again. References: the count of opens of the model file, and
hashlib's sha256 of the bytes."""

from __future__ import annotations

import builtins
import hashlib
import io
import os
from pathlib import Path

import pytest

import ionmd.protocols.run_settings as run_settings
from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import brownian_run, write_campaign
from test_collect_other_runs import ANALYSIS


@pytest.fixture
def finished(folder):
    """A finished campaign of 4 runs (600, 900 K x 2 replicas; Brownian Li)."""
    path = write_campaign(folder, duration_ps=30, discard_ps=2, analysis=ANALYSIS,
                          replicas=2)
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, 0.2, 1.0)
    return path, runs


class _Counted:
    """A file object that adds the bytes read from it to ``tally``."""

    def __init__(self, fh, tally: list):
        self._fh, self._tally = fh, tally

    def read(self, *args):
        data = self._fh.read(*args)
        self._tally.append(len(data))
        return data

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._fh.__exit__(*exc)


def _bytes_read(monkeypatch, target: Path) -> list:
    """The bytes read from ``target`` from now on, one entry per read (through ``open``
    and ``io.open``, which zipfile uses)."""
    tally, real = [], builtins.open
    target = os.path.realpath(target)

    def counting(file, *args, **kwargs):
        fh = real(file, *args, **kwargs)
        if isinstance(file, (str, os.PathLike)) and os.path.realpath(file) == target:
            return _Counted(fh, tally)
        return fh

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(io, "open", counting)
    return tally


@pytest.mark.parametrize("command", ["collect", "status"])
def test_model_file_read_once_per_command(finished, command, monkeypatch, capsys):
    path, runs = finished
    model = path.parent / "morse.pt"
    st = model.stat()           # a new state of the file: planning's reads count not
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    tally = _bytes_read(monkeypatch, model)
    assert main(["sweep", command, str(path), *(["--no-progress"] if command == "collect"
                                                 else [])]) == 0, capsys.readouterr().err
    assert len(runs) == 4
    # the digest of its bytes and its identity (a model ionmd's exporters did not write:
    # all its entries) read it whole once each, the element and metadata checks a few
    # entries (9690 bytes of a 3605-byte file): not whole once per run folder (33252)
    assert sum(tally) < 4 * model.stat().st_size, (sum(tally), model.stat().st_size)


def test_a_file_changed_in_place_is_read_again(tmp_path):
    f = tmp_path / "model.pt"
    f.write_bytes(b"a" * 1000)
    assert run_settings.file_hash(f) == hashlib.sha256(b"a" * 1000).hexdigest()[:16]
    with open(f, "r+b") as fh:                      # same inode, same size, new bytes
        fh.write(b"b" * 1000)
    assert run_settings.file_hash(f) == hashlib.sha256(b"b" * 1000).hexdigest()[:16]
    before = f.stat()
    with open(f, "ab") as fh:                       # new size, mtime set back (cp -p)
        fh.write(b"c")
    os.utime(f, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert run_settings.file_hash(f) == hashlib.sha256(b"b" * 1000 + b"c").hexdigest()[:16]
    with open(f, "r+b") as fh:                      # same size and mtime: its ctime changed
        fh.write(b"d")
    os.utime(f, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert run_settings.file_hash(f) == hashlib.sha256(b"d" + b"b" * 999 + b"c").hexdigest()[:16]
