"""The refusal of a campaign over its run bound says how to raise it in the campaign file's
own format: ``max_runs: N`` in a YAML file, ``max_runs = N`` in a TOML one. Before, it said
``max_runs = N`` whatever the file: pasted into a YAML campaign, that line is not a key
(PyYAML: "could not find expected ':'", the file no longer parses).
Reference: the file's own parser (tomllib, PyYAML through ``load_campaign``) on the line the
message says to write, and the runs the campaign then plans (its two temperatures)."""

from __future__ import annotations

import re

import pytest

from ionmd.sweep import CampaignError, load_campaign, plan_campaign
from sweep_setup import write_campaign

YAML = """\
name: c
max_runs: 1
structures: [fcc.cif]
models: [morse.pt]
temperatures: [600, 900]
protocol:
  name: conductivity
  duration_ps: 0.5
  discard_ps: 0.1
  supercell: none
  dump_every: 10
  thermo_every: 10
  restart_every: 100
analysis:
  fit_start_ps: 0.05
  window_ps: 0.2
"""


def _campaign(folder, fmt: str):
    if fmt == "toml":
        return write_campaign(folder, extra="max_runs = 1")
    path = folder / "c.yaml"
    path.write_text(YAML)
    return path


@pytest.mark.parametrize("fmt, said", [("toml", "max_runs = 2"), ("yaml", "max_runs: 2")])
def test_the_advice_to_raise_max_runs_is_in_the_files_format(folder, fmt, said):
    path = _campaign(folder, fmt)
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    text = str(exc.value)
    advice = re.search(r"raise the bound at the top of the file: ([^\n]+)", text)
    assert advice and advice[1].strip() == said, text
    assert f"over its {said.replace('2', '1')}" in text, text
    # what the message says to write, in place of the file's max_runs line, is taken
    lines = path.read_text().splitlines()
    (i,) = [k for k, line in enumerate(lines) if line.startswith("max_runs")]
    lines[i] = advice[1].strip()
    path.write_text("\n".join(lines) + "\n")
    assert [r.temperature for r in plan_campaign(load_campaign(path, check_resources=False))] \
        == [600.0, 900.0]
