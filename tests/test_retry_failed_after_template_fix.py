"""``sweep submit --retry-failed`` after fixing the template that made the runs fail: a
campaign whose template named an unknown fix style failed every run at step 0 (exit 3);
with the template fixed, ``--retry-failed`` (and ``status``) refused the campaign as
changed ("template_hash: the input template changed"). Runs that stopped on an error
holding no result mix nothing: they now take the fixed template (its hash recorded) and
run; a run holding results still refuses it. Changing only ``discard_ps`` in the campaign
is refused pointing to run.json's ``discard_ps``.

References: real LAMMPS runs (``lmp`` + the plugin, Morse model, 32 atoms), the template
files' sha256 (hashlib)."""

from __future__ import annotations

import hashlib
import json

import pytest

from ionmd.cli import main
from ionmd.errors import IonmdError

THERMO_LINE = "thermo          $thermo_every\n"


def _template_text(bad: bool) -> str:
    from ionmd.protocols.md_input import INPUTS

    text = (INPUTS / "md.lmp").read_text()
    assert THERMO_LINE in text, "the md template's thermo line changed: update THERMO_LINE"
    return text.replace(THERMO_LINE, THERMO_LINE + "fix             oops all nosuchstyle\n") \
        if bad else text


def _campaign(tmp_path, morse, bad: bool):
    from sweep_setup import campaign_dir, write_campaign

    folder = campaign_dir(tmp_path / "camp", morse)
    (folder / "md_t.lmp").write_text(_template_text(bad))
    path = write_campaign(folder, name="tpl", temperatures=(600, 900), duration_ps=0.3)
    text = path.read_text().replace('supercell = "none"\n',
                                    'supercell = "none"\ntemplate = "md_t.lmp"\n')
    path.write_text(text)
    return path


def _sha16(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _settings(run) -> dict:
    return json.loads((run.path / "settings.json").read_text())


def test_runs_failed_by_a_bad_template_retry_with_the_fixed_one(tmp_path, morse, capsys):
    from ionmd.sweep import load_campaign, plan_campaign

    path = _campaign(tmp_path, morse, bad=True)
    template = path.parent / "md_t.lmp"
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 3
    runs = plan_campaign(load_campaign(path))
    for run in runs:
        st = run.rundir.status
        assert st["state"] == "failed" and "nosuchstyle" in st["reason"] and st["step"] == 0
        assert _settings(run)["template_hash"] == _sha16(template)
    template.write_text(_template_text(bad=False))          # fixed
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 0        # before: refused as changed
    assert main(["sweep", "submit", str(path), "--retry-failed", "--no-progress"]) == 0
    for run in runs:                                        # before: refused, nothing run
        assert run.rundir.status["state"] == "completed"
        assert _settings(run)["template_hash"] == _sha16(template)
        assert "nosuchstyle" not in (run.path / "in.0.lmp").read_text()


def test_a_run_holding_results_still_refuses_a_changed_template(tmp_path, morse):
    from ionmd.sweep import load_campaign, plan_campaign
    from ionmd.sweep.submit import submit

    path = _campaign(tmp_path, morse, bad=False)
    template = path.parent / "md_t.lmp"
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    old_hash = _sha16(template)
    empty, ran = (r.rundir for r in plan_campaign(load_campaign(path)))
    empty.reset()                   # as a failure at step 0 leaves it: no step, no restart
    empty.set_status("failed", resumable=False, reason="ERROR: Unrecognized fix style")
    ran.set_status("failed", resumable=False, reason="ERROR: Out of range atoms")   # ran on
    template.write_text(_template_text(bad=False) + "# changed\n")
    with pytest.raises(IonmdError) as info:
        submit(load_campaign(path), retry_failed=True, progress=False)
    said = str(info.value)
    assert str(ran.path) in said and "template_hash: the input template changed" in said
    assert "--retry-failed" in said
    # refused before anything was written: the empty run keeps its settings too
    assert _settings(empty)["template_hash"] == old_hash == _settings(ran)["template_hash"]
    assert empty.status["state"] == "failed"


def test_a_changed_discard_points_to_run_json(tmp_path, morse):
    from ionmd.sweep import load_campaign, plan_campaign

    path = _campaign(tmp_path, morse, bad=False)
    plan_campaign(load_campaign(path), create=True)
    path.write_text(path.read_text().replace("discard_ps = 0.1", "discard_ps = 0.15"))
    with pytest.raises(IonmdError) as info:
        plan_campaign(load_campaign(path), create=True)
    said = str(info.value)
    assert "protocol.discard_ps: the run has 0.1, the campaign file now gives 0.15" in said
    assert 'edit "discard_ps" in each run folder\'s run.json' in said   # before: not said
