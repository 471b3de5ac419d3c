"""Every numeric setting of a protocol and a campaign file has a range
(``ionmd.protocols.checks.RANGES``): a value past it is refused when the file or the
options are read, naming the key, the value, the range and why, and nothing is written;
the bound itself is accepted. Before, ``replicas = 10**9`` planned 10^9 folders,
``temperatures = [1e308]``, ``pressure_bar = 1e308``, ``walltime = nan`` and
``supercell = "1000x1000x1000"`` were accepted (the last two failed at submit or filled
the memory), and ``--temps 300:1e12:1e-3`` built 10^15 temperatures (the memory)."""

from __future__ import annotations

import re
import time

import pytest

from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.protocols import check_protocol, get_protocol
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import campaign_dir, line_of, write_campaign

# the short runs of test_protocols_cmds: each row changes one setting of it
SHORT = dict(duration_ps=0.5, discard_ps=0.1, dump_every=10, thermo_every=10,
             restart_every=100, supercell=None, tdamp_fs=50.0, pdamp_fs=500.0,
             temperatures=(600.0,))

# (preset, key, past the bound, the bound, what the refusal quotes)
BOUNDS = [
    ("conductivity", "temperatures", (600.0, 5001.0), (600.0, 5000.0), "temperatures 5001 K"),
    ("conductivity", "temperatures", (0.0,), (0.001,), "temperatures 0 K"),
    ("conductivity", "temperature_end", 5001.0, 5000.0, "temperature_end 5001 K"),
    ("conductivity-nvt", "long_below_K", 5001.0, 5000.0, "long_below_K 5001 K"),
    ("conductivity", "pressure_bar", 2e6, 1e6, "pressure_bar 2e+06 bar"),     # 200 GPa
    ("conductivity", "pressure_end_bar", -1.0001e5, -1e5, "pressure_end_bar -100010 bar"),
    ("conductivity", "tdamp_fs", 1e308, 1e5, "tdamp_fs 1e+308 fs"),
    ("conductivity", "pdamp_fs", 100001.0, 1e5, "pdamp_fs 100001 fs"),
    ("umlip-benchmark", "berendsen_modulus_bar", 0.0, 1e7, "berendsen_modulus_bar 0 bar"),
    ("conductivity", "replicas", 10**9, 1000, "replicas 1000000000"),
    ("conductivity", "halt_volume_change", 0.0, 10.0, "halt_volume_change 0"),
    ("conductivity-nvt", "long_duration_ps", -3.0, 0.5, "long_duration_ps -3 ps"),
    ("conductivity-nvt", "long_discard_ps", -3.0, 0.0, "long_discard_ps -3 ps"),
    ("ev-scan", "n_points", 1002, 1001, "n_points 1002"),
    ("ev-scan", "max_strain", 0.51, 0.5, "max_strain 0.51 "),
    ("conductivity", "supercell", "100001x1x1", "46x46x46", "supercell '100001x1x1'"),
    ("conductivity", "supercell", "400.5A", "400A", "supercell '400.5A'"),
]


def _protocol(preset: str, **overrides):
    base = {} if preset == "ev-scan" else SHORT
    p = get_protocol(preset, **{**base, **overrides})
    check_protocol(p)
    return p


@pytest.mark.parametrize("preset, key, bad, bound, quoted", BOUNDS,
                         ids=[f"{row[1]}={row[2]}" for row in BOUNDS])
def test_a_value_past_its_bound_is_refused_and_the_bound_taken(preset, key, bad, bound, quoted):
    with pytest.raises(IonmdError) as exc:
        _protocol(preset, **{key: bad})
    said = str(exc.value)
    assert said.startswith(quoted) and "out of range" in said or \
        said.startswith(quoted) and "copies of the cell" in said, said
    assert _protocol(preset, **{key: bound}) is not None


def test_replicas_say_how_many_folders_they_would_make():
    with pytest.raises(IonmdError) as exc:
        _protocol("conductivity", replicas=10**9, temperatures=(600.0, 700.0, 800.0))
    assert "give >= 1 and <= 1000" in str(exc.value)
    assert "would make 3000000000 run folders (3 temperature(s))" in str(exc.value)


def test_why_a_temperature_is_out_of_range():
    with pytest.raises(IonmdError, match=r"give > 0 and <= 5000 K; above ~5000 K lies "
                                         r"outside any MLIP's training data"):
        _protocol("conductivity", temperatures=(1e308,))


def test_too_many_temperatures_are_refused_before_they_are_built():
    # 200 temperatures (every 25 K up to 5000 K) are taken; 499901 were built and kept
    # (300:1e12:1e-3, 10^15 of them, filled the memory)
    assert len(_protocol("conductivity", temperatures="25:5000:25").temperatures) == 200
    start = time.perf_counter()
    with pytest.raises(IonmdError, match="499901 temperatures would make 499901 run folders"):
        get_protocol("conductivity", temperatures="1:5000:0.01")
    assert time.perf_counter() - start < 1.0
    listed = ",".join(str(600 + t) for t in range(201))
    with pytest.raises(IonmdError, match="201 temperatures"):
        _protocol("conductivity", temperatures=listed)


# ---- ionmd run: the flags that set them, nothing written --------------------------------

RUN_ARGS = ["--time", "0.5ps", "--supercell", "none", "--set", "discard_ps=0.1",
            "--set", "dump_every=10", "--set", "thermo_every=10", "--set", "restart_every=100",
            "--set", "tdamp_fs=50", "--set", "pdamp_fs=500", "--dry-run"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, morse):
    return campaign_dir(tmp_path_factory.mktemp("bounds"), morse)


@pytest.mark.parametrize("args, quoted", [
    (["--replicas", "1000000000", "--temps", "600"], "replicas 1000000000 is out of range"),
    (["--temps", "600,6000"], "temperatures 6000 K is out of range"),
    (["--temps", "600", "--set", "pressure_bar=1e308"], "pressure_bar 1e+308 bar is out of range"),
    (["--temps", "600", "--set", "temperature_end=inf"], "temperature_end must be a finite"),
])
def test_ionmd_run_refuses_before_writing(folder, capsys, args, quoted):
    out = folder / "run-out"
    assert main(["run", "conductivity", str(folder / "fcc.cif"), "--model",
                 str(folder / "morse.pt"), *RUN_ARGS, *args, "-o", str(out)]) == 1
    assert quoted in capsys.readouterr().err
    assert not out.exists()


def test_the_order_options_take_the_campaign_keys_ranges(folder, capsys):
    for option, bad in (("--order-tol", "1"), ("--order-min-distance", "nan")):
        with pytest.raises(SystemExit):
            main(["run", "conductivity", str(folder / "fcc.cif"), "--model",
                  str(folder / "morse.pt"), option, bad])
        assert f"argument {option}: give a finite number" in capsys.readouterr().err


# ---- campaign files: the key's line, the file, nothing written ---------------------------

def _tree(root):
    return {p.relative_to(root): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def _campaign_says(path, marker: str) -> str:
    with pytest.raises(CampaignError) as exc:
        load_campaign(path, check_resources=False)
    found = re.search(rf"{re.escape(str(path))}, line {line_of(path, marker)}: (.*)",
                      str(exc.value))
    assert found, str(exc.value)
    return found.group(1)


CAMPAIGN_CASES = [
    # (write_campaign arguments, marker of the line, the refusal, the bound taken)
    (dict(resources='ranks = 1\nwalltime = nan'), "walltime", "walltime nan min is out of range",
     dict(resources='ranks = 1\nwalltime = "366d"')),
    (dict(resources='ranks = 1\nwalltime = "400d"'), "walltime",
     "resources.walltime 576000 min is out of range: give > 0 and <= 527040 min",
     dict(resources='ranks = 1\nwalltime = 527040')),
    (dict(resources='ranks = 1\ngpus = 65'), "gpus", "resources.gpus 65 is out of range",
     dict(resources='ranks = 1\ngpus = 64')),
    (dict(executor='kind = "slurm"\nmem_gb = inf'), "mem_gb", "executor.mem_gb inf GB",
     dict(executor='kind = "slurm"\nmem_gb = 100000')),
    (dict(analysis="charges = {Li = 1, Cl = -1}\nwindow_ps = nan"), "window_ps",
     "analysis.window_ps nan ps is out of range",
     dict(analysis="window_ps = 0.2\nfit_start_ps = 0.05")),
    (dict(analysis="fit_start_ps = inf"), "fit_start_ps", "analysis.fit_start_ps inf ps",
     dict(analysis="fit_start_ps = 0.05")),
    (dict(extra='[goal]\nsigma_300K_factor = 3\nbudget = "1 h"\ntarget_K = 1e308'), "target_K",
     "goal.target_K 1e+308 K is out of range",
     dict(extra='[goal]\nsigma_300K_factor = 3\nbudget = "1 h"\ntarget_K = 5000')),
    (dict(extra="order_tol = nan"), "order_tol", "order_tol nan is out of range: give > 0 and < 1",
     dict(extra="order_tol = 0.5")),
    (dict(structures='[{path = "fcc.cif", order_min_distance = -1.0}]'), "order_min_distance",
     "order_min_distance -1 A is out of range: give >= 0 A",
     dict(structures='[{path = "fcc.cif", order_min_distance = 0.0}]')),
    (dict(extra='[goal]\nsigma_300K_factor = 3\nbudget = "1 h"\ntemperatures = "700,5100"'),
     "5100", "goal.temperatures 5100 K is out of range: give > 0 and <= 5000 K",
     dict(extra='[goal]\nsigma_300K_factor = 3\nbudget = "1 h"\ntemperatures = "700,5000"')),
    (dict(extra='[goal]\nsigma_300K_factor = 3\nbudget = "1 h"\nstep = "1e300ps"'), "step =",
     "a new run (discard_ps + goal.step) 1e+300 ps is 1e+303 steps of 1 fs, more than LAMMPS "
     "runs (2147483647)",
     dict(extra='[goal]\nsigma_300K_factor = 3\nbudget = "1 h"\nstep = "2147483.5ps"')),
    (dict(extra='[goal]\nsigma_300K_factor = inf\nbudget = "1 h"'), "sigma_300K_factor",
     "goal.sigma_300K_factor inf is out of range",
     dict(extra='[goal]\nsigma_300K_factor = 1e6\nbudget = "1 h"')),
]


@pytest.mark.parametrize("bad, marker, quoted, good", CAMPAIGN_CASES,
                         ids=[c[1] + str(i) for i, c in enumerate(CAMPAIGN_CASES)])
def test_campaign_values_are_refused_on_their_line(folder, bad, marker, quoted, good):
    assert quoted in _campaign_says(write_campaign(folder, name="bad", **bad), marker)
    load_campaign(write_campaign(folder, name="good", **good), check_resources=False)


def test_campaign_protocol_values_on_their_lines(folder):
    path = write_campaign(folder, name="proto", replicas=10**9)
    assert _campaign_says(path, "replicas =") == (
        "protocol 'conductivity': replicas 1000000000 is out of range: give >= 1 and <= 1000; "
        "one run folder each per temperature; the error of a mean narrows only as "
        "1/sqrt(replicas): longer runs buy more; replicas = 1000000000 would make "
        "2000000000 run folders (2 temperature(s))")
    path = write_campaign(folder, name="proto", temperatures=(600, 6000))
    assert "temperatures 6000 K is out of range" in _campaign_says(path, "temperatures =")
    path = write_campaign(folder, name="proto")
    path.write_text(path.read_text().replace("tdamp_fs = 50.0",
                                             "tdamp_fs = 50.0\npressure_bar = 1e308"))
    assert "pressure_bar 1e+308 bar is out of range" in _campaign_says(path, "pressure_bar")


def test_a_refused_campaign_writes_nothing(folder, capsys):
    path = write_campaign(folder, name="tree", replicas=10**9,
                          resources='ranks = 1\nwalltime = nan')
    (folder / "runs" / "keep").mkdir(parents=True, exist_ok=True)
    (folder / "runs" / "keep" / "note.txt").write_text("a run tree")
    before = _tree(folder)
    for command in ("plan", "submit", "status"):
        assert main(["sweep", command, str(path)]) == 1
        err = capsys.readouterr().err
        assert "replicas 1000000000 is out of range" in err and "walltime nan min" in err
    assert _tree(folder) == before
