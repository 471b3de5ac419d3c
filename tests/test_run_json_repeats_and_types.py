"""A run.json written by hand: a key given twice (json keeps the last silently: charges Li 1
then Li 2 gave a sigma 4x) and a type_map naming no element (a traceback deep in the
analysis: "'Xx' is not a valid Element") or no LAMMPS type are the run's error, named."""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from test_analysis_cli import POINT_IONS, _run_dir


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("runjson") / "T800"
    _run_dir(path, 800, seed=5)
    return path


def _with_run_json(run, tmp_path, text: str):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in run.iterdir():
        if f.name != "run.json":
            (bad / f.name).symlink_to(f)
    (bad / "run.json").write_text(text)
    return bad


def _analyse(path, tmp_path, capsys) -> tuple[int, str]:
    rc = main(["analyze", str(path), "-o", str(tmp_path / "out"), *POINT_IONS])
    return rc, capsys.readouterr().err


def test_a_key_given_twice_is_the_runs_error(run, tmp_path, capsys):
    meta = json.loads((run / "run.json").read_text())
    text = json.dumps(meta).replace('"charges": {"Li": 1, "Cl": -1}',
                                    '"charges": {"Li": 1, "Cl": -1, "Li": 2}')
    assert '"Li": 2' in text and json.loads(text)["charges"]["Li"] == 2   # json keeps the last
    rc, err = _analyse(_with_run_json(run, tmp_path, text), tmp_path, capsys)
    assert rc != 0 and "'Li' is given twice" in err, err


@pytest.mark.parametrize("type_map, said", [({"1": "Xx", "2": "Li"}, "'Xx', which is no element"),
                                            ({"0": "Cl", "1": "Li"}, "'0' is no LAMMPS atom type")])
def test_a_type_map_to_no_element_or_type_is_the_runs_error(run, tmp_path, capsys, type_map,
                                                            said):
    meta = {**json.loads((run / "run.json").read_text()), "type_map": type_map}
    rc, err = _analyse(_with_run_json(run, tmp_path, json.dumps(meta)), tmp_path, capsys)
    assert rc != 0 and said in err and "Traceback" not in err, err


def test_the_run_as_written_is_analysed(run, tmp_path, capsys):
    meta = {**json.loads((run / "run.json").read_text()), "type_map": {"1": "Cl", "2": "Li"}}
    rc, err = _analyse(_with_run_json(run, tmp_path, json.dumps(meta)), tmp_path, capsys)
    assert rc == 0, err


@pytest.mark.parametrize("type_map, said", [
    ({"1": "Cl", "2": "Li", "01": "Li"}, "gives type 1 twice ('Cl' and 'Li')"),  # Cl read as Li
    ({"\u00b2": "Cl", "2": "Li"}, "'\u00b2' is no LAMMPS atom type"),    # isdigit, not int()
    (["Cl", "Li"], "type_map is a JSON list")])
def test_a_type_given_twice_or_a_type_map_of_no_types_is_the_runs_error(run, tmp_path, capsys,
                                                                         type_map, said):
    """"1" and "01" are one LAMMPS type (the last silently won: Cl's atoms analysed as Li);
    a superscript digit passed str.isdigit and then failed int(); a list has no keys."""
    meta = {**json.loads((run / "run.json").read_text()), "type_map": type_map}
    rc, err = _analyse(_with_run_json(run, tmp_path, json.dumps(meta)), tmp_path, capsys)
    assert rc != 0 and said in err and "Traceback" not in err, err


def test_reopening_a_run_folder_refuses_a_key_given_twice(tmp_path):
    """RunDir.open (a resume, an extension) read run.json with plain json: a hand-edited
    charges {"Li": 1, "Li": 2} was taken as Li 2 and written back without the repeat, after
    which the analysis accepted it."""
    from ionmd.errors import IonmdError
    from ionmd.protocols import plan_runs
    from ionmd.protocols.rundir import RunDir
    from protocol_setup import fcc_cell, morse_model, short

    (rd,) = plan_runs(short("conductivity-nvt"), fcc_cell(), morse_model(tmp_path / "m.pt"),
                      tmp_path / "out", name="fcc", charges={"Li": 1, "Cl": -1})
    text = (rd.path / "run.json").read_text()
    assert '"Li": 1.0' in text
    (rd.path / "run.json").write_text(text.replace('"Li": 1.0', '"Li": 1.0, "Li": 2.0'))
    with pytest.raises(IonmdError, match="'Li' is given twice"):
        RunDir.open(rd.path)
