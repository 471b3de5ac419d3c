"""A failed export leaves the model file it was to replace as it was: every export is
written beside ``-o`` and moved onto it only once written and checked. Before, a package
was written over ``-o`` and removed where its check failed (aoti.save_aoti,
kept_if_checked), and a TorchScript save that failed half-way left a truncated file: the
runs' model was gone, though replacing a model file is how a model is re-exported.

References: the old file's bytes (read before the export); the session's Morse package
(conftest's morse_pt2) stands in for a compiled one, no compile here."""

from __future__ import annotations

import shutil

import pytest
import torch

from contract_models import ALPHA, D0, R0, RC, MorseNodeEnergy
from ionmd.errors import ExportError
from ionmd.export.contract import ModelMetadata, save_torchscript


class Scaled(torch.nn.Module):
    def __init__(self, w: float):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w))

    def forward(self, edge_vec, edge_index, species, nlocal: int):
        e = torch.zeros(species.shape[0], dtype=edge_vec.dtype).index_add(
            0, edge_index[0], self.w * (edge_vec * edge_vec).sum(1))
        return e[:nlocal]


def _meta(**kw) -> ModelMetadata:
    return ModelMetadata(**{"family": "test", "cutoff": RC, "num_layers": 2,
                            "elements": ["Cl", "Li"], "dtype": "float64", **kw})


def _old_model(tmp_path, name: str) -> tuple:
    out = save_torchscript(torch.jit.script(Scaled(1.0)), tmp_path / name, _meta())
    return out, out.read_bytes()


def test_a_torchscript_save_that_fails_keeps_the_old_file(tmp_path, monkeypatch):
    out, before = _old_model(tmp_path, "m.pt")
    real_save = torch.jit.save

    def fails_half_way(module, path, **kwargs):     # a full disk: part written, then raised
        with open(path, "wb") as fh:
            fh.write(b"PK\x03\x04 truncated")
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")

    monkeypatch.setattr(torch.jit, "save", fails_half_way)
    with pytest.raises(ExportError, match="could not be saved.*file write failed.*"
                                          "was not replaced: the file there is as it was"):
        save_torchscript(torch.jit.script(Scaled(2.0)), out, _meta())
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]      # no scratch left
    monkeypatch.setattr(torch.jit, "save", real_save)
    save_torchscript(torch.jit.script(Scaled(2.0)), out, _meta())   # one that works replaces
    assert float(torch.jit.load(str(out)).w.detach()) == 2.0
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


@pytest.fixture
def packaged_as_morse(morse_pt2, monkeypatch):
    """save_aoti's compile and packaging write the Morse package (test_aoti_check's way)."""
    import ionmd.export.aoti as aoti

    monkeypatch.setattr(aoti, "compile_program", lambda *args, **kwargs: [])
    monkeypatch.setattr(aoti, "stage_programs", lambda *args, **kwargs: {})
    monkeypatch.setattr(aoti, "package_programs",
                        lambda path, programs: shutil.copyfile(morse_pt2, path))
    return aoti


def test_a_package_that_fails_its_check_keeps_the_old_file(packaged_as_morse, tmp_path):
    """The eager model is Morse of twice the depth: the package disagrees and is refused;
    the model file -o named before is untouched (before: overwritten, then removed)."""
    out, before = _old_model(tmp_path, "m.pt2")
    with pytest.raises(ExportError, match="disagrees with the eager model.*was removed "
                                          r"\(.*m.pt2 was not replaced"):
        packaged_as_morse.save_aoti(MorseNodeEnergy(2 * D0, ALPHA, R0, RC), out, _meta())
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt2"]
    packaged_as_morse.save_aoti(MorseNodeEnergy(D0, ALPHA, R0, RC), out, _meta())
    assert out.read_bytes() != before           # the package that passes replaces it
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt2"]


def test_a_package_whose_stage_check_fails_keeps_the_old_file(packaged_as_morse, tmp_path,
                                                              monkeypatch):
    """The whole-model program passes, the stage check fails: the old file is kept
    (before: the package had replaced it, then was removed)."""
    out, before = _old_model(tmp_path, "s.pt2")
    monkeypatch.setattr(packaged_as_morse, "stage_vjp_metadata", lambda *args: None)

    def stage_check_fails(*args, **kwargs):
        raise ExportError("the AOTInductor program 'stage_1' disagrees with the eager stage")

    monkeypatch.setattr(packaged_as_morse, "check_stage_programs", stage_check_fails)
    with pytest.raises(ExportError, match="'stage_1' disagrees.*s.pt2 was not replaced"):
        packaged_as_morse.save_staged_aoti(MorseNodeEnergy(D0, ALPHA, R0, RC), None, 2, out,
                                           _meta())
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.pt2"]


def test_an_export_killed_outright_leaves_no_scratch_for_the_next(tmp_path):
    """SIGKILL runs no ``finally``: the killed export's scratch folder stays until the
    next export of the same path, which removes it (nobody holds its writer's lock), while
    a live writer's (its lock held, by this process here, under a process id that is gone:
    as a writer in a container with other process ids looks), one without a lock file and
    another host's (its lock may be local to that node) are kept."""
    import fcntl
    import os
    import signal
    import socket
    import subprocess
    import sys

    from ionmd.export.written_whole import WRITER_LOCK, written_whole

    code = ("import sys, time\n"
            "from ionmd.export.written_whole import written_whole\n"
            "with written_whole(sys.argv[1]) as scratch:\n"
            "    scratch.write_bytes(b'half')\n"
            "    print('writing', flush=True)\n"
            "    time.sleep(60)\n")
    target = tmp_path / "m.pt"
    killed = subprocess.Popen([sys.executable, "-c", code, str(target)],
                              stdout=subprocess.PIPE, text=True)
    assert killed.stdout.readline().strip() == "writing"
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].endswith(".writing") and not target.exists()

    host = socket.gethostname()
    live = tmp_path / f".m.pt.{host}.{killed.pid}.abcdefgh.writing"    # its pid is gone
    live.mkdir()
    held = os.open(live / WRITER_LOCK, os.O_CREAT | os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    unlocked = tmp_path / f".m.pt.{host}.{killed.pid}.ijklmnop.writing"  # starting, or old
    unlocked.mkdir()
    elsewhere = tmp_path / f".m.pt.other-node.{killed.pid}.qrstuvwx.writing"
    elsewhere.mkdir()
    (elsewhere / WRITER_LOCK).touch()                       # unlocked as seen from here
    try:
        with written_whole(target) as scratch:
            scratch.write_bytes(b"whole")
    finally:
        os.close(held)
    assert target.read_bytes() == b"whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["m.pt", live.name, unlocked.name, elsewhere.name])
