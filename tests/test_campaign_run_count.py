"""A campaign's run folders are bounded: structures x models x temperatures x replicas over
10,000 (``MAX_CAMPAIGN_RUNS``, one series' bound) is refused when planned, before any folder
is written, saying the count, its factors and how to go on (split it, or ``max_runs`` in
the file); ``max_runs`` raises the bound. Before, only each series was bounded (10,000), so
20 structures x 5 models made 40,000 folders without a word. Here 2 structures x 1 model x
100 temperatures x 60 replicas: 12,000 runs, 6,000 per series (under the series' bound).
The refusal says how to raise the bound in the campaign file's own format: ``max_runs: N``
in a YAML file, ``max_runs = N`` in a TOML one. Before, it said ``max_runs = N`` whatever the
file: pasted into a YAML campaign, that line is not a key (PyYAML: "could not find expected
':'", the file no longer parses).
References: the runs the campaign plans once allowed (plan_campaign's list, its own count),
and the file's own parser (tomllib, PyYAML through ``load_campaign``) on the line the
message says to write."""

from __future__ import annotations

import re
import shutil

import pytest

from ionmd.sweep import CampaignError, load_campaign, plan_campaign
from sweep_setup import line_of, write_campaign

# the protocol and analysis of every YAML campaign here
YAML_RUNS = """\
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

# 100 temperatures (300, 320, ..., 2280 K) x 60 replicas x 2 structures
CAMPAIGN = """\
structures:
  - fcc.cif
  - fcc2.cif
models: [morse.pt]
temperatures: "300:2280:20"
replicas: 60
{extra}""" + YAML_RUNS

# two temperatures over a bound of one run
SMALL_YAML = """\
name: c
max_runs: 1
structures: [fcc.cif]
models: [morse.pt]
temperatures: [600, 900]
""" + YAML_RUNS


def _campaign(folder, extra: str = ""):
    shutil.copy(folder / "fcc.cif", folder / "fcc2.cif")
    path = folder / "big.yaml"
    path.write_text(CAMPAIGN.format(extra=extra))
    return path


def test_a_campaign_over_the_bound_is_refused_saying_its_count(folder):
    path = _campaign(folder)
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    text = str(exc.value)
    assert (f"line {line_of(path, 'structures:')}: the campaign plans 12000 run folders "
            f"(2 structure(s) x 1 model(s) x 100 temperature(s) x 60 replica(s))") in text, text
    assert "max_runs: 12000" in text and "Split it" in text
    assert not (folder / "runs").exists()               # nothing written
    # what the message says to do: the campaign then plans the runs it counted
    path.write_text(CAMPAIGN.format(extra="max_runs: 12000\n"))
    runs = plan_campaign(load_campaign(path))
    assert len(runs) == 12000
    assert len({(r.structure, r.temperature, r.replica) for r in runs}) == 12000


@pytest.mark.parametrize("value, said", [(11999, "over its max_runs: 11999"),
                                         (0, "max_runs must be an integer >= 1"),
                                         ('"many"', "max_runs must be an integer >= 1")])
def test_max_runs_is_refused_on_its_line(folder, value, said):
    path = _campaign(folder, extra=f"max_runs: {value}\n")
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    assert f"line {line_of(path, 'max_runs:')}: " in str(exc.value)
    assert said in str(exc.value), str(exc.value)


def _small_campaign(folder, fmt: str):
    if fmt == "toml":
        return write_campaign(folder, extra="max_runs = 1")
    path = folder / "c.yaml"
    path.write_text(SMALL_YAML)
    return path


@pytest.mark.parametrize("fmt, said", [("toml", "max_runs = 2"), ("yaml", "max_runs: 2")])
def test_the_advice_to_raise_max_runs_is_in_the_files_format(folder, fmt, said):
    path = _small_campaign(folder, fmt)
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
