"""The in-process LAMMPS runner (``--runner module``, ``ionmd.lammps.module_runner``) in a
notebook: it changes the process's working directory for a run (LAMMPS resolves file
names there) and set ``LAMMPS_PLUGIN_PATH`` for the rest of the process's life. Both are
the caller's again after a run: one that finished, one LAMMPS refused, one whose LAMMPS
could not be closed (the cwd stayed the run folder), one that could not start. LAMMPS
reads the variable only when it starts: after a ``clear`` pair_style ionmd is still there."""

from __future__ import annotations

import os

import pytest

from ionmd.lammps import module_runner
from ionmd.lammps.module_runner import ModuleRun, check_module_runner, new_lammps

PLUGIN_PATH = "LAMMPS_PLUGIN_PATH"


@pytest.fixture(params=["unset", "set"])
def notebook(request, tmp_path, monkeypatch):
    """A caller with its own cwd and, or not, its own LAMMPS_PLUGIN_PATH."""
    check_module_runner()
    home = tmp_path / "notebook"
    home.mkdir()
    monkeypatch.chdir(home)
    if request.param == "set":
        monkeypatch.setenv(PLUGIN_PATH, str(tmp_path / "own_plugins"))
    else:
        monkeypatch.delenv(PLUGIN_PATH, raising=False)
    monkeypatch.delenv("IONMD_TEST_RUN_VAR", raising=False)
    return home


def _run(tmp_path, text: str) -> tuple[ModuleRun, int]:
    folder = tmp_path / "run"
    folder.mkdir(exist_ok=True)
    (folder / "in.lmp").write_text(text)
    run = ModuleRun(folder, "in.lmp", "log.lammps", folder / "screen.txt",
                    env={"IONMD_TEST_RUN_VAR": "1"})
    return run, run.wait()


@pytest.mark.parametrize("text, rc", [("print \"inside $(1+1)\"\n", 0),
                                      ("no_such_command 1\n", 1)])
def test_cwd_and_environment_are_the_callers_after_a_run(notebook, tmp_path, text, rc):
    before = dict(os.environ)
    run, code = _run(tmp_path, text)
    assert code == rc, run.error
    assert os.getcwd() == str(notebook)
    assert dict(os.environ) == before
    if rc:
        assert "no_such_command" in (tmp_path / "run" / "log.lammps").read_text()


class _Unclosable:
    """A LAMMPS whose input fails and whose close fails too (an instance in an error state)."""

    def file(self, name):
        raise RuntimeError("ERROR: the input failed")

    def close(self):
        raise RuntimeError("cannot close")


@pytest.mark.parametrize("start", ["unclosable", "cannot_start"])
def test_cwd_and_environment_are_restored_when_the_run_raises(notebook, tmp_path,
                                                              monkeypatch, start):
    def fake_new_lammps(log, screen):
        if start == "cannot_start":
            raise RuntimeError("no LAMMPS here")
        return _Unclosable()

    monkeypatch.setattr(module_runner, "new_lammps", fake_new_lammps)
    before = dict(os.environ)
    run, code = _run(tmp_path, "print hi\n")
    assert code == 1 and run.error
    assert os.getcwd() == str(notebook)
    assert dict(os.environ) == before
    # the lock is released: a next run can start
    _, code = _run(tmp_path, "print hi\n")
    assert code == 1


def test_the_plugin_stays_loaded_once_the_variable_is_restored(notebook):
    before = os.environ.get(PLUGIN_PATH)
    lmp = new_lammps()
    try:
        assert os.environ.get(PLUGIN_PATH) == before
        assert lmp.has_style("pair", "ionmd")
        lmp.command("clear")
        assert lmp.has_style("pair", "ionmd")
    finally:
        lmp.close()
    second = new_lammps()       # a later instance (the plugin is per process) has it too
    try:
        assert second.has_style("pair", "ionmd")
    finally:
        second.close()
