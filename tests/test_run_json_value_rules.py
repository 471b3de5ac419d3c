"""run.json keys users edit that nothing checked where the analysis reads them: ``replica``
(``int()``: ``"1"``, ``1.5`` and ``true`` read as replica 1, ``"r1"`` and ``null`` a
traceback), ``temperature_end_K`` (``float()``: ``"2100"``, ``true`` as 1 K, a negative end),
``atom_style`` (a number a traceback in the trajectory reader, ``""`` taken as no value), a
species named twice in ``mobile_species`` (analysed twice, also at a launch), and
``charges_replaced`` (the analysis's own note, refused as an unknown key without saying so).
From the Python API a tuple of species was refused, naming the CLI's ``--mobile``, and an
unknown override key (``mobile``) was ignored. Each now by the one rule of
analysis.run_json_values, in one line naming the file or override, key, value and fix, with
nothing written. A real 108-atom LAMMPS run (lammps_runner.lj_dcd_run) is the folder."""

from __future__ import annotations

import json

import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.errors import AnalysisError, IonmdError
from ionmd.protocols import execute
from lj_run_copies import edited_copy, folder_files, lj_run, write_run_json
from test_run_json_edits_checked import NOT_LAMMPS, _edit, _runs


@pytest.fixture(scope="module")
def lammps_run(tmp_path_factory):
    return lj_run(tmp_path_factory)


@pytest.fixture
def run(lammps_run, tmp_path):
    """A copy of the real run with its analysable run.json."""
    return edited_copy(lammps_run, tmp_path / "run")


BAD_VALUES = [
    ("replica", "1", "is not a replica number"),                 # was replica 1
    ("replica", 1.5, "is not a replica number"),                 # was replica 1
    ("replica", True, "is not a replica number"),                # was replica 1
    ("replica", "r1", "is not a replica number"),                # was a ValueError traceback
    ("replica", None, "is not a replica number"),                # was a TypeError traceback
    ("replica", -1, "is not a replica number"),
    ("temperature_end_K", "2100", "is not a temperature in K"),  # was 2100 K
    ("temperature_end_K", True, "is not a temperature in K"),    # was 1 K
    ("temperature_end_K", -5, "is not a temperature in K"),
    ("atom_style", 5, "is not the columns of the data file's Atoms section"),  # traceback
    ("atom_style", "", "is not the columns of the data file's Atoms section"),
    ("atom_style", "full", "names a LAMMPS atom style, not the columns of its Atoms section "
                           "('id resid type q x y z')"),
    ("atom_style", "id type x y", "has no column z (the analysis reads id type x y z)"),
    ("mobile_species", ["Li", "Li"], "names Li more than once"),
]


@pytest.mark.parametrize("key, value, why", BAD_VALUES)
def test_analyze_refuses_an_edited_value_it_cannot_use(run, capsys, key, value, why):
    write_run_json(run, {key: value})
    before = folder_files(run)
    assert main(["analyze", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"ionmd: error: {run / 'run.json'}: "
                          f'"{key}": {json.dumps(value)} {why}; write '), err
    assert "or delete the key" in err
    assert folder_files(run) == before           # no analysis/ folder, run.json as it was


def test_usable_values_are_read_as_written(run):
    write_run_json(run, {"replica": 2, "temperature_end_K": 2100,
                         "atom_style": "id type x y z", "mobile_species": ["Li", "Cl"]})
    spec = load_run_spec(run)
    assert (spec.replica, spec.temperature_end_K, spec.atom_style, spec.mobile_species) == \
        (2, 2100.0, "id type x y z", ["Li", "Cl"])


def test_charges_replaced_in_run_json_is_named_the_analysis_note(run, capsys):
    write_run_json(run, {"charges_replaced": "Li=1,Cl=-1"})
    assert main(["analyze", str(run)]) == 1
    err = capsys.readouterr().err
    assert "'charges_replaced' is no setting: it is the analysis's note, in results.json, of " \
           "the given charges (--charges, a campaign's) that replaced run.json's; delete it " \
           "(charges go under 'charges')" in err, err
    assert not (run / "analysis").exists()


def test_python_api_takes_a_tuple_and_names_its_overrides(run):
    """A tuple was refused as "--mobile ('Li',) is not a list of element symbols"."""
    assert load_run_spec(run, {"mobile_species": ("Li",)}).mobile_species == ["Li"]
    with pytest.raises(AnalysisError) as info:
        load_run_spec(run, {"mobile_species": "Li"})
    assert "from Python, overrides['mobile_species'] of load_run_spec" in str(info.value)
    with pytest.raises(AnalysisError, match=r"overrides\['replica'\] of load_run_spec: '1' is "
                                            r"not a replica number; give the replica's number"):
        load_run_spec(run, {"replica": "1"})
    with pytest.raises(AnalysisError, match=r"overrides\['charges_replaced'\] of load_run_spec "
                                            r"is no setting: .*; give 'charges'"):
        load_run_spec(run, {"charges_replaced": "Li=2"})
    with pytest.raises(AnalysisError, match="unknown key 'mobile'; did you mean "
                                            "'mobile_species'"):
        load_run_spec(run, {"mobile": ["Cl"]})


def test_a_species_given_twice_on_the_command_line_is_refused(run, capsys):
    assert main(["analyze", str(run), "--mobile", "Li,Li"]) == 1
    assert "--mobile Li,Li names Li more than once; give element symbols, each once" in \
        capsys.readouterr().err
    assert not (run / "analysis").exists()


def test_a_launch_refuses_a_species_named_twice_as_the_analysis_does(tmp_path, morse):
    (rd,) = _runs(tmp_path, morse)
    _edit(rd, mobile_species=["Li", "Li"])
    with pytest.raises(IonmdError, match=r'"mobile_species": \["Li", "Li"\] names Li more than '
                                         r"once; write a list of the structure's elements, "
                                         r"each once"):
        execute(rd, launcher=NOT_LAMMPS)
