"""``ionmd screen --dry-run`` into a folder that already holds rows, and the campaign an
earlier ``--top N`` wrote when files are screened again.

The dry run costed every input as if the folder were empty: it listed (and timed) the
structures a real run skips as finished, did not say which edited files a real run screens
again, and did not refuse settings a real run refuses. A rewritten campaign kept as many
structures as the old file named, not the ``--top`` asked: where fewer had finished then,
it stayed short of what a fresh ``--top N`` gives."""

from __future__ import annotations

import pytest
import yaml
from ase.build import bulk
from ase.io import write
from ionmd.cli import main
from test_screen_edited_inputs import _screen, screened  # noqa: F401 - a fixture


def _table_names(stdout: str) -> list[str]:
    """The structure names of the dry run's table (after its header line)."""
    lines = stdout.splitlines()
    start = next(k for k, ln in enumerate(lines) if ln.startswith("structure"))
    return [ln.split()[0] for ln in lines[start + 1:] if not ln.startswith("total ")]


def test_dry_run_shows_what_a_resumed_screen_does(tiny_f64, tmp_path, screened, capsys):
    licl, lif, libr = tmp_path / "LiCl.cif", tmp_path / "LiF.cif", tmp_path / "LiBr.cif"
    write(licl, bulk("LiCl", "rocksalt", a=5.14))
    write(lif, bulk("LiF", "rocksalt", a=4.03))
    out = tmp_path / "out"
    assert _screen(tiny_f64, [licl, lif], out) == 0
    write(licl, bulk("LiCl", "rocksalt", a=5.4))               # edited
    write(libr, bulk("LiBr", "rocksalt", a=5.5))               # new
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    screened.clear(), capsys.readouterr()
    assert _screen(tiny_f64, [licl, lif, libr], out, "--dry-run") == 0
    stdout = capsys.readouterr().out
    assert screened == []                                        # nothing evaluated
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert "already holds 1 finished structure(s) of these inputs: skipped" in stdout
    assert f"{licl} changed since its rows were written: screened again" in stdout
    planned = _table_names(stdout)
    assert planned == ["LiCl", "LiBr"]

    # the real run screens exactly what the dry run listed
    assert _screen(tiny_f64, [licl, lif, libr], out) == 0
    assert sorted(f for f, _ in screened) == sorted(["ClLi", "BrLi"])

    capsys.readouterr()
    assert _screen(tiny_f64, [licl, lif, libr], out, "--dry-run") == 0
    assert "nothing to screen: every input is finished" in capsys.readouterr().out


def test_dry_run_refuses_what_the_screen_refuses_and_writes_nothing(tiny_f64, tmp_path,
                                                                    capsys):
    licl = tmp_path / "LiCl.cif"
    write(licl, bulk("LiCl", "rocksalt", a=5.14))
    out = tmp_path / "out"
    assert _screen(tiny_f64, [licl], tmp_path / "fresh", "--dry-run") == 0
    assert not (tmp_path / "fresh").exists()                    # a dry run creates nothing
    assert _screen(tiny_f64, [licl], out) == 0
    capsys.readouterr()
    other = main(["screen", str(licl), "--model", str(tiny_f64), "--spacing", "0.5",
                  "-o", str(out)])
    refusal = capsys.readouterr().err
    assert other != 0 and "holds a screen made with other settings" in refusal
    assert main(["screen", str(licl), "--model", str(tiny_f64), "--spacing", "0.5",
                 "-o", str(out), "--dry-run"]) == other
    assert capsys.readouterr().err == refusal


def test_a_rewritten_campaign_keeps_the_top_asked(tiny_f64, tmp_path, capsys):
    """--top 3 when only two structures finished; the third file fixed and the first edited:
    the rewritten campaign ranks three, as a fresh --top 3 of the same files does."""
    licl, lif, third = tmp_path / "LiCl.cif", tmp_path / "LiF.cif", tmp_path / "third.cif"
    write(licl, bulk("LiCl", "rocksalt", a=5.14))
    write(lif, bulk("LiF", "rocksalt", a=4.03))
    third.write_text("not a structure yet\n")
    out = tmp_path / "out"
    assert _screen(tiny_f64, [licl, lif, third], out, "--top", "3") == 3
    assert len(yaml.safe_load((out / "campaign.yaml").read_text())["structures"]) == 2

    write(third, bulk("LiBr", "rocksalt", a=5.5))
    write(licl, bulk("LiCl", "rocksalt", a=5.4))
    assert _screen(tiny_f64, [licl, lif, third], out) == 0
    assert "(top 3 by xi, as it was)" in capsys.readouterr().err
    fresh = tmp_path / "fresh"
    assert _screen(tiny_f64, [licl, lif, third], fresh, "--top", "3") == 0
    campaign = yaml.safe_load((out / "campaign.yaml").read_text())
    assert len(campaign["structures"]) == 3
    assert (out / "campaign.yaml").read_text() == (fresh / "campaign.yaml").read_text()


@pytest.mark.parametrize("top", [1, 2])
def test_the_campaign_records_the_top_asked(tiny_f64, tmp_path, top):
    licl = tmp_path / "LiCl.cif"
    write(licl, bulk("LiCl", "rocksalt", a=5.14))
    assert _screen(tiny_f64, [licl], tmp_path / "out", "--top", str(top)) == 0
    assert f"(--top {top})" in (tmp_path / "out" / "campaign.yaml").read_text()
