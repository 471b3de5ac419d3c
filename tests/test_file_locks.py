"""ionmd.file_locks: the one "flock, or go on unlocked where the file system has no locks"
helper. A file system without locks (Lustre mounted without ``-o flock``) is simulated by
making ``fcntl.flock`` raise the errors such a file system gives."""

import errno
import fcntl
import os

import pytest

from ionmd.analysis.result_files import staged_outputs
from ionmd.analysis.staging import STAGING_PREFIX
from ionmd.file_locks import NO_LOCK_ERRNOS, flock_if_supported, held_elsewhere


def _no_locks(code):
    def flock(fd, how):
        raise OSError(code, os.strerror(code))
    return flock


@pytest.mark.parametrize("code", sorted(NO_LOCK_ERRNOS))
def test_no_locks_on_the_file_system_means_unlocked_not_an_error(tmp_path, monkeypatch,
                                                                 code):
    path = tmp_path / "f.lock"
    path.write_text("")
    held_by_other = os.open(path, os.O_RDWR)
    fcntl.flock(held_by_other, fcntl.LOCK_EX)       # really held: the probe cannot see it
    monkeypatch.setattr(fcntl, "flock", _no_locks(code))
    fd = os.open(path, os.O_RDWR)
    try:
        assert flock_if_supported(fd, fcntl.LOCK_EX) is False
        assert held_elsewhere(path) is False
    finally:
        os.close(fd)
        os.close(held_by_other)


def test_other_flock_errors_are_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(fcntl, "flock", _no_locks(errno.EBADF))
    with pytest.raises(OSError) as info:
        flock_if_supported(0, fcntl.LOCK_EX)
    assert info.value.errno == errno.EBADF


def test_held_elsewhere_sees_an_exclusive_holder_and_its_release(tmp_path):
    path = tmp_path / "f.lock"
    assert held_elsewhere(path) is False and not path.exists()      # never created
    path.write_text("")
    holder = os.open(path, os.O_RDWR)
    try:
        assert flock_if_supported(holder, fcntl.LOCK_EX) is True
        assert held_elsewhere(path) is True
        with pytest.raises(BlockingIOError):        # LOCK_NB: held elsewhere is raised
            other = os.open(path, os.O_RDWR)
            try:
                flock_if_supported(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(other)
        fcntl.flock(holder, fcntl.LOCK_UN)
        assert held_elsewhere(path) is False
    finally:
        os.close(holder)


def test_an_analysis_commits_where_the_file_system_has_no_locks(tmp_path, monkeypatch):
    """staging.py takes its locks through the helper: without locks an analysis still
    replaces the earlier files, and leaves no lock file or staging folder behind."""
    out = tmp_path / "an"
    out.mkdir()
    (out / "results.json").write_text("old")
    (out / "old_only.csv").write_text("old")
    monkeypatch.setattr(fcntl, "flock", _no_locks(errno.ENOSYS))
    with staged_outputs(out, lambda o: ["results.json", "old_only.csv"]) as stage:
        (stage / "results.json").write_text("new")
        (stage / "msd.csv").write_text("new")
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "results.json": "new", "msd.csv": "new"}
    assert not list(out.glob(STAGING_PREFIX + "*"))
