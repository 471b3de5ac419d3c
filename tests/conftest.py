import os
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# OpenBLAS (numpy's and scipy's) on one thread, in this process and the commands the tests
# start, as torch below: read when the library loads, and numpy is not loaded yet here.
# Its 2 threads on the busy 2-core host wait on each other in every small solve (scipy's
# logm of a 3x3 cell, 300 calls: 9.8 s CPU and 55 s wall with 2 threads, 0.6 s and 5.5 s
# with 1; test_box_relax_finds_the_calculators_lattice's FrechetCellFilter makes 1800).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
warnings.filterwarnings("ignore", message=".*TP accelerator.*")


def pytest_runtest_setup(item):
    """Torch in this process on one thread (a test that compares thread counts sets its
    own): the models here are tiny, and 2 threads on a busy 2-core host wait on each
    other (measured: a MACE layout and an old-release export test, 12.7 -> 9.9 and
    11.6 -> 9.2 s CPU); torch is not imported here for the files that never use it."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` (``make test``) with the files that share a global resource on
    one worker (tests/xdist_files.py); any other --dist as xdist makes it."""
    if config.getvalue("dist") == "loadfile":
        from xdist_files import make_scheduler

        return make_scheduler(config, log)
    return None


def xdist_order(items):
    """``items`` in about the order they run: under xdist, that of the work queue."""
    from session_exports import xdist_worker
    from xdist_files import queue_order, scope_of

    if xdist_worker() is None:
        return items
    rank = {scope: i for i, scope in enumerate(queue_order([item.nodeid for item in items]))}
    return sorted(items, key=lambda item: rank[scope_of(item.nodeid)])


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """This process's folder for the model files a test writes by a name of its own."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def shared_model_dir(tmp_path_factory, model_dir):
    """The session fixtures' model files, made once for all xdist workers (``make test``
    runs 2): one folder that they all see; ``model_dir`` itself outside xdist."""
    from session_exports import shared_dir, xdist_worker

    return model_dir if xdist_worker() is None else shared_dir(tmp_path_factory, "shared_models")


def _once(shared_model_dir, name, make):
    from session_exports import made_once

    return made_once(shared_model_dir, name, make)


@pytest.fixture(scope="session", autouse=True)
def session_exports(request, shared_model_dir):
    """Starts the second process that compiles the session packages the collected tests
    use (tests/session_exports.py), unless the first test needs them at once."""
    from session_exports import MAKERS, SessionExports

    first_use = {}
    for index, item in enumerate(xdist_order(request.session.items)):
        for name in MAKERS:
            if name in getattr(item, "fixturenames", ()):
                first_use.setdefault(name, index)
    exports = SessionExports(shared_model_dir, sorted((n for n, i in first_use.items() if i > 0),
                                                      key=first_use.get))
    yield exports
    exports.stop(request.session)


@pytest.fixture(scope="session")
def tiny_esen_l1_f64(session_exports):
    """The tiny one-layer eSEN checkpoint (4 A) and its float64 AOTInductor package:
    compiling a package takes minutes, so every test file shares this one."""
    return session_exports.result("tiny_esen_l1_f64")


@pytest.fixture(scope="session")
def sevennet0_f64(shared_model_dir):
    from ionmd.export import export_sevennet

    return _once(shared_model_dir, "sevennet0_f64", lambda: export_sevennet(
        "7net-0", shared_model_dir / "sevennet0_f64.pt", dtype="float64"))


@pytest.fixture(scope="session")
def sevennet0_f32(shared_model_dir):
    from ionmd.export import export_sevennet

    return _once(shared_model_dir, "sevennet0_f32", lambda: export_sevennet(
        "7net-0", shared_model_dir / "sevennet0_f32.pt", dtype="float32"))


@pytest.fixture(scope="session")
def tiny_checkpoint(shared_model_dir):
    from tiny_sevennet import write_tiny_sevennet_checkpoint

    return _once(shared_model_dir, "tiny_checkpoint", lambda: write_tiny_sevennet_checkpoint(
        shared_model_dir / "tiny_sevennet.pth"))


@pytest.fixture(scope="session")
def tiny_f64(shared_model_dir, tiny_checkpoint):
    from ionmd.export import export_sevennet

    return _once(shared_model_dir, "tiny_f64", lambda: export_sevennet(
        tiny_checkpoint, shared_model_dir / "tiny_f64.pt", dtype="float64"))


@pytest.fixture(scope="session")
def deep_tiny(shared_model_dir):
    """The tiny SevenNet with 5 layers x 5 A like SevenNet-0, 8 channels, float32, per-layer
    stages: the memory-guard and out-of-memory tests' model, made once for the session
    (each of 4 files exported it again in a module fixture: 4.7-5.8 s CPU each); a module
    fixture of this name still replaces it in its file."""
    from ionmd.export import export_sevennet
    from tiny_sevennet import write_tiny_sevennet_checkpoint

    def make():
        (shared_model_dir / "deep_tiny").mkdir(exist_ok=True)
        ckpt = write_tiny_sevennet_checkpoint(shared_model_dir / "deep_tiny" / "deep.pth",
                                              cutoff=5.0, layers=5)
        return export_sevennet(ckpt, shared_model_dir / "deep_tiny" / "deep_f32.pt",
                               dtype="float32")

    return _once(shared_model_dir, "deep_tiny", make)


@pytest.fixture(scope="session")
def tiny_mace_file(shared_model_dir):
    from tiny_mace import write_tiny_mace

    return _once(shared_model_dir, "tiny_mace_file", lambda: write_tiny_mace(
        shared_model_dir / "tiny_mace.model"))


@pytest.fixture(scope="session")
def tiny_mace_f64(shared_model_dir, tiny_mace_file):
    from ionmd.export import export_mace

    return _once(shared_model_dir, "tiny_mace_f64", lambda: export_mace(
        tiny_mace_file, shared_model_dir / "tiny_mace_f64.pt", dtype="float64"))


@pytest.fixture(scope="session")
def morse_pt2(session_exports):
    """A Morse model (tests/contract_models.py) as an AOTInductor package: compiled once
    per session (tens of seconds), shared by the package and screen tests."""
    return session_exports.result("morse_pt2")


@pytest.fixture(scope="session")
def tiny_staged_f64_pt2(session_exports):
    """The tiny SevenNet as a float64 AOTInductor package with per-layer stages (a
    compiled forward and vector-Jacobian program per stage)."""
    return session_exports.result("tiny_staged_f64_pt2")


@pytest.fixture(scope="session")
def sevennet0_cueq(session_exports):
    """7net-0 exported with cuEquivariance kernels through the CLI (float64, no stages)."""
    return session_exports.result("sevennet0_cueq")


@pytest.fixture(scope="session")
def tiny_cueq_f64_pt2(session_exports):
    """The tiny SevenNet with cuEquivariance kernels as a float64 AOTInductor package."""
    return session_exports.result("tiny_cueq_f64_pt2")


@pytest.fixture(scope="session")
def sevennet_wheel_exports(session_exports):
    """The sevenn wheel's other checkpoints exported through the CLI: {"7net-l3i5": path,
    "7net-mf-0 PBE": path, "7net-mf-0 R2SCAN": path} (session_exports.WHEEL_EXPORTS)."""
    from session_exports import WHEEL_EXPORTS

    return dict(zip(WHEEL_EXPORTS, session_exports.result("sevennet_wheel_exports")))


@pytest.fixture(scope="session")
def sevennet_deployed(session_exports):
    """The folder of the sevenn fixture checkpoint deployed by sevenn's own deploy
    (``deployed_serial.pt``) and deploy_parallel (``deployed_parallel_*.pt``)."""
    return session_exports.result("sevennet_deployed")


@pytest.fixture(scope="module")
def morse(tmp_path_factory):
    """A Morse model file (Li, Cl) in the model-file contract (``protocol_setup``), one
    per test module; a module may define its own ``morse``."""
    from protocol_setup import morse_model

    return morse_model(tmp_path_factory.mktemp("morse") / "morse.pt")


@pytest.fixture
def folder(tmp_path, morse):
    """A campaign folder with ``morse.pt`` and ``fcc.cif`` (``sweep_setup.campaign_dir``);
    a module adds its files by a ``folder(folder)`` fixture of its own."""
    from sweep_setup import campaign_dir

    return campaign_dir(tmp_path / "camp", morse)
