"""A re-exported model is the same model: run folders record the model's identity
(``ionmd.export.model_identity``), not the bytes of one export. Before, ``model_hash`` was
the file's sha256, which every export changes (its metadata holds ``created``; TorchScript
freezing renumbers code and constants: two exports of SevenNet-0, 3498093 and 3762980
bytes), so runs of a re-exported file were refused ("differs in model_hash") and fitted
as another series (``fcc/tiny@<hash8>``). A folder written before records the file's
sha256: it resumes with its file and groups with later runs of that file; another model
is refused, naming the file, both hashes and the way on.

References: the file digests by hashlib; the runs: Brownian Li of known Arrhenius D
(``sweep_setup.brownian_run``), one series of three temperatures or not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.cli import main
from ionmd.errors import IonmdError
from protocol_setup import ELEMENTS, MORSE, fcc_cell, short
from sweep_setup import brownian_run

EA, D_1000 = 0.3, 0.4                       # eV, A^2/ps at 1000 K
CHARGES = {"Li": 1, "Cl": -1}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def plan(model: Path, out: Path, temperatures):
    from ionmd.protocols import plan_runs

    return plan_runs(short("conductivity", temperatures=tuple(temperatures)), fcc_cell(),
                     model, out, name="fcc", charges=CHARGES)


def run_brownian(runs) -> None:
    for rd in runs:
        brownian_run(rd, rd.temperature, int(rd.temperature), EA, D_1000)


def series(folders, out: Path) -> dict:
    """analyze's Arrhenius fits of D_Li: {series name: replicas of each point}."""
    assert main(["analyze", *map(str, folders), "-o", str(out),
                 "--collapse-fraction", "0.01"]) in (0, None)
    summary = json.loads((out / "summary.json").read_text())
    return {name: [len(p["replicas"]) for p in fits["D_Li"]["points"]]
            for name, fits in summary["arrhenius"].items()}


def reexported(src: Path, dst: Path, **entries: str) -> Path:
    """``src`` as a second save of its module writes it: the archive's top folder named
    after ``dst``, another ``created`` in its metadata (what two saves of one scripted
    module differ in), and the metadata ``entries`` given."""
    entries = {"created": "2031-01-01T00:00:00+00:00", **entries}
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("extra/ionmd/metadata"):
                lines = dict(line.split("=", 1) for line in data.decode().splitlines())
                data = "".join(f"{k}={v}\n" for k, v in {**lines, **entries}.items()).encode()
            name = dst.stem + "/" + info.filename.split("/", 1)[1]
            zout.writestr(zipfile.ZipInfo(name, info.date_time), data,
                          compress_type=zipfile.ZIP_STORED)
    return dst


def test_two_exports_of_one_checkpoint_are_one_model(tiny_f64, tiny_checkpoint, tmp_path,
                                                     capsys):
    """Runs of the first export, then the same command with a second export of the same
    checkpoint and one more temperature: the first runs are reopened (not refused), and
    the three temperatures are one series."""
    from ionmd.export import export_sevennet

    (tmp_path / "a").mkdir()
    first = Path(shutil.copy(tiny_f64, tmp_path / "a" / "tiny.pt"))
    second = export_sevennet(tiny_checkpoint, tmp_path / "b" / "tiny.pt", dtype="float64")
    assert digest(first) != digest(second)
    out = tmp_path / "runs"
    old = plan(first, out, (600, 800))
    run_brownian(old)
    runs = plan(second, out, (600, 800, 1000))     # before: "differs in model_hash"
    assert [rd.path for rd in runs[:2]] == [rd.path for rd in old]
    run_brownian(runs[2:])
    settings = [json.loads((rd.path / "settings.json").read_text()) for rd in runs]
    assert len({s["model_hash"] for s in settings}) == 1
    assert {s["model_file_hash"] for s in settings} == {digest(second)}
    for model in (first, second):       # what `ionmd inspect` says the runs record
        assert main(["inspect", str(model)]) in (0, None)
        assert ["model_hash", settings[0]["model_hash"]] in [
            line.split() for line in capsys.readouterr().out.splitlines()]
    assert series([rd.path for rd in runs], tmp_path / "an") == {"fcc": [1, 1, 1]}


def test_what_the_identity_holds(tiny_f64, tmp_path):
    """The checkpoint's name as the command gave it (``7net-0``, a path) and the time are
    left out; its sha256 and the options are what the model computes with."""
    from ionmd.export.model_identity import model_identity

    same = reexported(tiny_f64, tmp_path / "a.pt", source="/elsewhere/tiny.pth",
                      checkpoint_file="renamed.pth")
    assert digest(same) != digest(tiny_f64)
    assert model_identity(same) == model_identity(tiny_f64)
    for change in ({"source_sha256": "0" * 64}, {"dtype": "float32"}, {"kernels": "cueq"},
                   {"exporter": "ionmd 9.9"}):
        assert model_identity(reexported(tiny_f64, tmp_path / "b.pt", **change)) \
            != model_identity(tiny_f64), change


def old_folders_and_a_new_run(morse, tmp_path):
    """A copy of ``morse`` and, under ``runs``, two Brownian run folders (600, 800 K) as
    ionmd wrote them before identities (``model_hash``: the file's digest, no
    ``model_file_hash``), then a run at 1000 K planned now: (model, out, old, new)."""
    model = Path(shutil.copy(morse, tmp_path / "morse.pt"))
    out = tmp_path / "runs"
    old = plan(model, out, (600, 800))
    run_brownian(old)
    for rd in old:                   # as ionmd wrote them before: the file's digest
        for name in ("settings.json", "run.json"):
            record = json.loads((rd.path / name).read_text())
            record.pop("model_file_hash", None)
            record["model_hash"] = digest(model)
            (rd.path / name).write_text(json.dumps(record))
    (new,) = plan(model, out, (1000,))
    run_brownian([new])
    return model, out, old, new


def test_a_folder_recording_the_file_digest_resumes_and_is_one_series(morse, tmp_path):
    """Folders written before identities were recorded (``model_hash``: the file's sha256)
    fit with a later run of that file as one series, and resume with another export of
    the model while the file they recorded is still there."""
    from ionmd.export.model_identity import model_identity

    model, out, old, new = old_folders_and_a_new_run(morse, tmp_path)
    assert json.loads((new.path / "run.json").read_text())["model_hash"] != digest(model)
    folders = [rd.path for rd in old] + [new.path]
    assert series(folders, tmp_path / "an") == {"fcc": [1, 1, 1]}

    again = reexported(model, tmp_path / "b" / "morse.pt")
    assert digest(again) != digest(model) and model_identity(again) == model_identity(model)
    plan(again, out, (600, 800, 1000))              # before: "differs in model_hash"
    for rd in old:                  # recorded anew: the identity, the bytes last run with
        settings = json.loads((rd.path / "settings.json").read_text())
        assert (settings["model_hash"], settings["model_file_hash"]) == (
            model_identity(model), digest(again))
        assert json.loads((rd.path / "run.json").read_text())["model_hash"] == \
            model_identity(model)


def test_another_model_is_refused_saying_which_and_how_to_go_on(morse, tmp_path):
    from ionmd.export.model_identity import model_identity

    model = Path(shutil.copy(morse, tmp_path / "morse.pt"))
    out = tmp_path / "runs"
    (rd,) = plan(model, out, (600,))
    kept = (rd.path / "settings.json").read_text()
    other = save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 2 * MORSE["d0"]}),
                                tmp_path / "b" / "morse.pt", cutoff=MORSE["rc"],
                                elements=ELEMENTS)
    with pytest.raises(IonmdError) as info:
        plan(other, out, (600,))
    said = str(info.value)
    assert "differs in model_hash)" in said
    for part in (str(other.resolve()), model_identity(model), model_identity(other),
                 "the model file's contents changed (another export or another checkpoint)",
                 "another output folder", "the file the runs were made with",
                 f"({model.resolve()} still is that model)"):
        assert part in said
    assert (rd.path / "settings.json").read_text() == kept


def test_export_refuses_to_write_over_a_file_that_is_no_model(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    assert main(["export", "sevennet", "7net-0", "-o", str(notes)]) == 1
    err = capsys.readouterr().err
    assert "is not an ionmd model file" in err and "--overwrite" in err
    assert notes.read_text() == "my notes\n"


def test_run_with_a_model_name_says_the_export_command(tmp_path, capsys):
    """The model is checked before the structure is ordered (before: the ordering ran,
    then "model file 7net-0 does not exist")."""
    assert main(["run", "conductivity", "Li6PS5Cl", "--order", "random", "--model", "7net-0",
                 "--dry-run", "-o", str(tmp_path / "runs")]) == 1
    out, err = capsys.readouterr()
    assert "`ionmd export sevennet 7net-0 -o 7net-0.pt`" in err
    assert "--model 7net-0.pt" in err
    assert "ordered" not in out and not (tmp_path / "runs").exists()
