"""A structure argument that is neither a file nor a shipped example: ``nope.cif`` was
refused as "no shipped example structure named 'nope.cif'". A name with a suffix or a
folder is a file path, refused as a missing file with the absolute path looked for; a bare
name is neither a file in the current folder nor an example (listed). ``ionmd run`` reads
through the same function."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ionmd.errors import IonmdError
from ionmd.structures import example_names, read_structure


@pytest.mark.parametrize("given", ["nope.cif", "sub/nope.cif", "POSCAR.vasp", "Li3YCl6.cif"])
def test_a_path_is_refused_as_a_missing_file_naming_where_it_looked(tmp_path, monkeypatch,
                                                                    given):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(IonmdError) as refused:
        read_structure(given)
    text = str(refused.value)
    assert text.startswith(f"structure file {given!r} does not exist (looked for "
                           f"{tmp_path / given})"), text
    assert "no shipped example" not in text
    if given == "Li3YCl6.cif":      # the example of that name is said, not read
        assert "shipped example of that name is read as 'Li3YCl6'" in text


def test_a_path_object_is_a_file_even_without_suffix(tmp_path):
    with pytest.raises(IonmdError, match=r"structure file '.*Li3YCl6' does not exist"):
        read_structure(tmp_path / "Li3YCl6")


def test_a_bare_name_is_neither_a_file_here_nor_an_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(IonmdError) as refused:
        read_structure("nope")
    assert str(refused.value) == (
        f"no file 'nope' (looked for {tmp_path / 'nope'}) and no shipped example structure "
        f"named 'nope'; available: {', '.join(example_names())} (or give a CIF/POSCAR file "
        "path)")


def test_example_names_and_files_still_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = read_structure("li3yCL6")                    # any case
    (tmp_path / "mine.cif").write_text(example.to(fmt="cif"))
    assert read_structure("mine.cif").composition == example.composition


def test_ionmd_run_refuses_with_the_same_message(tmp_path):
    from protocol_setup import morse_model

    model = morse_model(tmp_path / "morse.pt")
    ionmd = Path(sys.executable).parent / "ionmd"
    for given, start in [("nope.cif", "structure file 'nope.cif' does not exist (looked for "
                                      f"{tmp_path / 'nope.cif'})"),
                         ("nope", f"no file 'nope' (looked for {tmp_path / 'nope'})")]:
        run = subprocess.run([str(ionmd), "run", "conductivity", given, "--model", str(model),
                              "--dry-run", "-o", str(tmp_path / "out")],
                             cwd=tmp_path, capture_output=True, text=True)
        assert run.returncode != 0
        assert start in run.stderr, run.stderr
