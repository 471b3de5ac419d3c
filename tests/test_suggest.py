"""One "did you mean" (ionmd.suggest) for every caller: a protocol parameter (``ionmd run
--set``, the API), a campaign file's keys, a ``run.json`` key, an sbatch option, an element
symbol. Before, four copies decided it differently (difflib at 0.6 and 0.7, an edit
distance, ``str.capitalize``): ``TEMPERATURES``, ``TIMESTEP`` and ``--Mail-Typo`` got no
suggestion. The cutoff is checked against names that are right but not listed: sbatch
options its ``--help`` leaves out, notes in a ``run.json``."""

from __future__ import annotations

import argparse
import json

import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli.options import element_symbol
from ionmd.errors import AnalysisError, IonmdError
from ionmd.protocols import get_protocol
from ionmd.suggest import closest
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import campaign_dir, line_of, write_campaign


@pytest.mark.parametrize("typo", ["temperatrue", "TEMPERATURES", "Temperature"])
def test_a_protocol_parameter(typo):
    with pytest.raises(IonmdError, match=f"no parameter '{typo}'; did you mean 'temperatures'"):
        get_protocol("conductivity", **{typo: 600})


def test_a_parameter_without_its_unit():
    with pytest.raises(IonmdError, match="did you mean 'tdamp_fs'"):
        get_protocol("conductivity", tdamp=100)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, morse):
    return campaign_dir(tmp_path_factory.mktemp("suggest"), morse)


@pytest.mark.parametrize("right, typo, meant", [
    ("temperatures = ", "temperatrue = ", "unknown key 'temperatrue'; did you mean "
                                          "'temperatures'?"),
    ("dump_every = ", "dumpevery = ", "protocol 'conductivity' has no parameter 'dumpevery'; "
                                      "did you mean 'dump_every'?"),
    ("walltime = ", "Walltime = ", "unknown key 'resources.Walltime'; did you mean "
                                   "'walltime'?"),
])
def test_a_campaign_key(folder, right, typo, meant):
    path = write_campaign(folder)
    path.write_text(path.read_text().replace(right, typo, 1))
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    assert f"line {line_of(path, typo)}: {meant}" in str(exc.value)


@pytest.mark.parametrize("key, meant", [("temperatrue", "temperature_K"),
                                        ("TIMESTEP", "timestep_fs")])
def test_a_run_json_key(tmp_path, key, meant):
    (tmp_path / "run.json").write_text(json.dumps({key: 900}))
    with pytest.raises(AnalysisError, match=f"unknown key '{key}'; did you mean '{meant}'"):
        load_run_spec(tmp_path)


def test_notes_in_a_run_json_are_no_misspelling():
    """Words unlike any run.json key get no suggestion (run.json refuses them all the same,
    naming the key, and keeps users' notes under ``notes``)."""
    from ionmd.analysis.run_json import RUN_JSON_KEYS

    for note in ("notes", "note", "comment", "date", "author", "source", "temp", "units"):
        assert closest(note, RUN_JSON_KEYS) is None, note


@pytest.mark.parametrize("text, meant", [("li", "Li"), ("NA", "Na"), ("cl", "Cl")])
def test_an_element_symbol(text, meant):
    with pytest.raises(argparse.ArgumentTypeError, match=f"did you mean '{meant}'"):
        element_symbol(text)
    with pytest.raises(argparse.ArgumentTypeError, match=r"\(e.g. Li, Na\)"):
        element_symbol("Lithium")


@pytest.fixture
def sbatch_help(tmp_path, monkeypatch):
    """sbatch's own option list (``sbatch --help``/``--usage`` run with a minimal
    slurm.conf: no cluster needed to print them)."""
    from ionmd.sweep.campaign_slurm import sbatch_long_options

    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=x\nSlurmctldHost=localhost\n")
    monkeypatch.setenv("SLURM_CONF", str(conf))
    known = sbatch_long_options()
    assert known and {"mail-type", "exclusive", "partition"} <= known
    return known


def test_an_sbatch_option(folder, sbatch_help, monkeypatch):
    """Checked as plan and submit load a campaign (check_resources; status and collect do
    not run sbatch: tests/test_sbatch_options_checked_by_plan_only.py); no partition is
    compared: sinfo here has no controller to ask (it would wait ~9 s to say so)."""
    from ionmd.sweep import campaign_slurm

    monkeypatch.setattr(campaign_slurm, "_partitions", lambda: None)
    path = write_campaign(folder, name="sb", executor='kind = "slurm"\n[executor.sbatch]\n'
                                                     'Mail-Typo = "END"\nexclusiv = true\n'
                                                     'hint = "nomultithread"\n'
                                                     'ntasks-per-gpu = 1')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=True)
    err = str(exc.value)
    assert (f"line {line_of(path, 'Mail-Typo')}: sbatch has no option --Mail-Typo (`sbatch "
            f"--help`); did you mean --mail-type?") in err
    assert f"line {line_of(path, 'exclusiv')}: sbatch has no option --exclusiv" in err
    assert "did you mean --exclusive?" in err
    # options sbatch takes without listing them are left to it (hint: sbatch(1))
    assert "2 problem(s)" in err, err


def test_options_sbatch_takes_unlisted_are_not_misspellings(sbatch_help):
    for right in ("hint", "ntasks-per-gpu", "tres-per-task", "kill-on-invalid-dep"):
        assert right not in sbatch_help and closest(right, sbatch_help) is None, right
    for typo, meant in (("mail-typo", "mail-type"), ("reservaton", "reservation"),
                        ("dependancy", "dependency"), ("licences", "licenses")):
        assert closest(typo, sbatch_help) == meant


def test_a_known_name_gets_no_suggestion():
    assert closest("temperatures", ["temperatures", "temperature_end"]) is None
