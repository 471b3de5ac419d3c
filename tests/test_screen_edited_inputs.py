"""A screen rerun after an input file was edited (a corrected CIF): the file was skipped as
finished, since rows were keyed by its path alone, and the folder kept the old file's
descriptors (and CUBE/PNG files and campaign entries) under the edited file's name. Rows now
record the SHA-256 of their file's bytes (``input_sha256``); a file whose bytes differ is
screened again and its old rows and files replaced, the others are neither read nor
screened again."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from ase.build import bulk
from ase.io import write
from ionmd.cli import main

# columns that are the structure's numbers, not the run's (wall time, paths as given)
DESCRIPTORS = ("formula", "natoms", "lattice", "grid", "mobile_ions", "n_evaluated",
               "mpe_eV", "xi", "fv_connected_0.5eV", "fv_disconnected_0.5eV")


@pytest.fixture
def screened(monkeypatch):
    """The structures `ionmd screen` evaluates (formula, first cell length)."""
    import ionmd.screen.screen as screen

    real, seen = screen.screen_structure, []

    def counting(atoms, *args, **kwargs):
        seen.append((atoms.get_chemical_formula(), round(atoms.cell.cellpar()[0], 4)))
        return real(atoms, *args, **kwargs)

    monkeypatch.setattr(screen, "screen_structure", counting)
    return seen


@pytest.fixture
def loaded(monkeypatch):
    """The files the screen reads (parses and orders)."""
    import ionmd.structures as structures

    real, seen = structures.load_structures, []
    monkeypatch.setattr(structures, "load_structures",
                        lambda source, *a, **k: seen.append(source) or real(source, *a, **k))
    return seen


def _screen(model, files, out, *args) -> int:
    return main(["screen", *map(str, files), "--model", str(model), "--spacing", "0.7",
                 "-o", str(out), *args])


def _rows(out) -> dict[str, dict]:
    return {r["name"]: r for r in json.loads((out / "screen.json").read_text())}


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_edited_file_is_screened_again(tiny_f64, tmp_path, screened, loaded, capsys):
    licl, lif = tmp_path / "LiCl.cif", tmp_path / "LiF.cif"
    write(licl, bulk("LiCl", "rocksalt", a=5.14))
    write(lif, bulk("LiF", "rocksalt", a=4.03))
    out = tmp_path / "out"
    assert _screen(tiny_f64, [licl, lif], out, "--cube", "--png", "--top", "2",
                   "--rank-by", "mpe") == 0
    first = _rows(out)
    assert {n: r["input_sha256"] for n, r in first.items()} == {"LiCl": _sha256(licl),
                                                                "LiF": _sha256(lif)}

    write(licl, bulk("LiCl", "rocksalt", a=5.4))              # a corrected lattice constant
    screened.clear(), loaded.clear(), capsys.readouterr()
    assert _screen(tiny_f64, [licl, lif], out) == 0
    err = capsys.readouterr().err                  # warnings: stderr
    assert screened == [("ClLi", round(5.4 / 2 ** 0.5, 4))]    # LiCl alone, the new cell
    assert loaded == [licl]                                   # LiF not read again
    assert f"{licl} changed since its rows were written: screened again" in err
    rows = _rows(out)
    assert sorted(rows) == ["LiCl", "LiF"]                    # the old LiCl row replaced
    assert rows["LiF"] == first["LiF"]
    assert rows["LiCl"]["input_sha256"] == _sha256(licl)
    # the old LiCl's files are gone (this run wrote none), LiF's stay
    assert sorted(p.name for p in (out / "cubes").iterdir()) == ["LiF_lm.cube", "LiF_pes.cube"]
    assert [p.name for p in (out / "plots").iterdir()] == ["LiF_lm.png"]

    # against a fresh screen of the edited file (and LiF, for the campaign's ranking)
    fresh = tmp_path / "fresh"
    assert _screen(tiny_f64, [licl, lif], fresh, "--top", "2", "--rank-by", "mpe") == 0
    reference = _rows(fresh)
    for column in DESCRIPTORS:
        assert rows["LiCl"][column] == pytest.approx(reference["LiCl"][column]), column
    assert rows["LiCl"]["lattice"][0] == pytest.approx(5.4 / 2 ** 0.5, abs=1e-4)
    # the earlier --top's campaign ranks the new numbers, as a fresh --top 2 does
    assert (out / "campaign.yaml").read_text() == (fresh / "campaign.yaml").read_text()
    assert "campaign.yaml named structures screened again: rewritten" in err

    screened.clear(), loaded.clear()
    assert _screen(tiny_f64, [licl, lif], out) == 0           # now both are done
    assert screened == [] and loaded == []


def test_a_file_of_several_structures_edited_to_one(tiny_f64, tmp_path, screened, capsys):
    """Every old row of the file goes, also those whose names the new file does not give,
    with their files; an error row records its file's bytes too."""
    two, half = tmp_path / "two.extxyz", tmp_path / "half.extxyz"
    write(two, [bulk("LiCl", "rocksalt", a=5.14), bulk("LiCl", "rocksalt", a=5.4)])
    write(half, [bulk("LiF", "rocksalt", a=4.03), bulk("NaCl", "rocksalt", a=5.64)])
    out = tmp_path / "out"
    assert _screen(tiny_f64, [two, half], out, "--cube") == 3     # half_1 has no Li
    first = _rows(out)
    assert first["half_1"]["status"] == "error"
    assert first["half_1"]["input_sha256"] == _sha256(half)
    assert {p.name for p in (out / "structures").iterdir()} == {"two_0.cif", "two_1.cif",
                                                                "half_0.cif"}

    write(two, bulk("LiCl", "rocksalt", a=5.6))
    screened.clear()
    assert _screen(tiny_f64, [two, half], out, "--cube") == 3
    assert f"{two} changed since its rows were written" in capsys.readouterr().err
    # the new cell, and the failed NaCl retried as ever; LiF not screened again
    assert [f for f, _ in screened] == ["ClLi", "ClNa"]
    rows = _rows(out)
    assert sorted(rows) == ["half_0", "half_1", "two"]
    assert rows["half_0"] == first["half_0"]
    assert rows["two"]["input_sha256"] == _sha256(two)
    assert rows["two"]["lattice"][0] == pytest.approx(5.6 / 2 ** 0.5, abs=1e-4)
    assert sorted(p.name for p in (out / "cubes").iterdir()) == [
        "half_0_lm.cube", "half_0_pes.cube", "two_lm.cube", "two_pes.cube"]
    assert {p.name for p in (out / "structures").iterdir()} == {"half_0.cif"}


def test_rows_without_a_hash_trust_the_path(tiny_f64, tmp_path, screened):
    """Rows written before they recorded their file's bytes are finished as before."""
    licl = tmp_path / "LiCl.cif"
    write(licl, bulk("LiCl", "rocksalt", a=5.14))
    out = tmp_path / "out"
    assert _screen(tiny_f64, [licl], out, "--top", "1") == 0
    path = out / "screen.json"
    old = [{k: v for k, v in r.items() if k != "input_sha256"}
           for r in json.loads(path.read_text())]
    path.write_text(json.dumps(old))
    campaign = (out / "campaign.yaml").read_text()
    write(licl, bulk("LiCl", "rocksalt", a=5.4))
    assert _screen(tiny_f64, [licl], out) == 0
    assert len(screened) == 1
    assert json.loads(path.read_text()) == old
    assert (out / "campaign.yaml").read_text() == campaign
    assert yaml.safe_load(campaign)["structures"][0]["name"] == "LiCl"


def test_an_edited_file_interrupted_resumes_at_its_next_structure(tiny_f64, tmp_path,
                                                                   monkeypatch):
    """A rerun interrupted inside an edited file of two structures (Ctrl-C) keeps the new
    row of the first; the next rerun screens only the second, with no old row left."""
    import ionmd.screen.screen as screen

    two = tmp_path / "two.extxyz"
    write(two, [bulk("LiCl", "rocksalt", a=5.14), bulk("LiCl", "rocksalt", a=5.4)])
    out = tmp_path / "out"
    assert _screen(tiny_f64, [two], out) == 0
    write(two, [bulk("LiCl", "rocksalt", a=5.2), bulk("LiCl", "rocksalt", a=5.6)])

    real, seen = screen.screen_structure, []

    def interrupted_at_second(atoms, *args, **kwargs):
        seen.append(round(atoms.cell.cellpar()[0], 4))
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real(atoms, *args, **kwargs)

    monkeypatch.setattr(screen, "screen_structure", interrupted_at_second)
    assert _screen(tiny_f64, [two], out) != 0
    rows = _rows(out)
    assert sorted(rows) == ["two_0"]                          # the new one; two_1's old row gone
    assert rows["two_0"]["lattice"][0] == pytest.approx(5.2 / 2 ** 0.5, abs=1e-4)
    seen.clear()
    monkeypatch.setattr(screen, "screen_structure",
                        lambda atoms, *a, **k: seen.append(0) or real(atoms, *a, **k))
    assert _screen(tiny_f64, [two], out) == 0
    rows = _rows(out)
    assert len(seen) == 1 and sorted(rows) == ["two_0", "two_1"]
    assert rows["two_1"]["lattice"][0] == pytest.approx(5.6 / 2 ** 0.5, abs=1e-4)


def test_an_example_name_records_its_shipped_file():
    """A shipped example's rows record its file's bytes (a newer ionmd shipping a corrected
    one screens it again); a missing file records none (its load fails and says so)."""
    from ionmd.screen.batch import input_sha256
    from ionmd.structures import example_path

    assert input_sha256("li3ycl6") == hashlib.sha256(
        example_path("Li3YCl6").read_bytes()).hexdigest()
    assert input_sha256("no_such.cif") is None
