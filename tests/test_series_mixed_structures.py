"""``ionmd analyze`` says where one series' runs start from different structures: two
campaigns' structures both named ``LLZO`` (one cell 5 % larger by volume, the same model)
were fitted as ONE series, their runs as replicas (Ea 0.048 +- 0.068 eV from four runs),
without a word, though each run folder's ``settings.json`` records another
``structure_hash``. Now the series says it (``mixed_structures``, in ``warnings`` and on
stderr) and its fits are flagged.

Replicas of one disordered structure are not mixed: ``ionmd run --order random`` and a
campaign order the file once, and every temperature and replica starts from that cell
(checked here on the folders they write: one hash, while another ``--order-seed`` gives
another), so their series says nothing.

The runs: folders planned by ionmd (settings.json, run.json, data file as written), their
trajectories replaced by Brownian Li (``sweep_setup.brownian_run``). Reference: which
campaign's cell each run folder was planned from (by construction), and that cell's volume
(ASE) for the 5 % apart.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from ase.io import read
from pymatgen.core import Lattice, Structure

from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from protocol_setup import fcc_cell
from sweep_setup import brownian_run, write_campaign

TEMPERATURES = (600.0, 900.0)
EA = (0.25, 0.5)            # eV, D at 1000 K (A^2/ps) of the Brownian runs
LLZO = '[{path = "fcc.cif", name = "LLZO"}]'


def planned_campaign(folder: Path, morse: Path, cif_writer, replicas: int = 1,
                     extra: str = "") -> list:
    """A campaign of one structure named LLZO (``cif_writer(path)`` writes its file) under
    ``morse.pt``, planned, each run's trajectory a Brownian one; its planned runs."""
    folder.mkdir(parents=True)
    shutil.copy(morse, folder / "morse.pt")
    cif_writer(folder / "fcc.cif")
    path = write_campaign(folder, temperatures=TEMPERATURES, replicas=replicas,
                          structures=LLZO, extra=extra, duration_ps=30, discard_ps=2)
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, *EA)
    return runs


def recorded_hash(run) -> str:
    return json.loads((run.rundir.path / "settings.json").read_text())["structure_hash"]


def analyze(folders, out: Path) -> dict:
    assert main(["analyze", *map(str, folders), "-o", str(out), "--collapse-fraction",
                 "0.01"]) in (0, None)
    return json.loads((out / "summary.json").read_text())


def disordered_cif(path: Path) -> None:
    """fcc with every site half Li, half Cl: ordered, a 2x2x2 cell of 16 Li and 16 Cl."""
    Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.68), [{"Li": 0.5, "Cl": 0.5}],
                              [[0, 0, 0]]).to(filename=str(path))


@pytest.fixture(scope="module")
def two_campaigns(tmp_path_factory, morse):
    """The audit's two campaigns: campA's fcc.cif and campB's, 5 % larger by volume, both
    named LLZO, separate outputs, one model."""
    base = tmp_path_factory.mktemp("mixed")
    scale = 1.05 ** (1 / 3)
    runs = {"campA": planned_campaign(base / "campA", morse, lambda p: fcc_cell().write(p)),
            "campB": planned_campaign(base / "campB", morse,
                                      lambda p: fcc_cell(a=3.68 * scale).write(p))}
    return base, runs


def test_two_campaigns_structures_under_one_name_are_said_to_be_mixed(two_campaigns, capsys):
    base, runs = two_campaigns
    volumes = {c: read(base / c / "fcc.cif").get_volume() for c in runs}
    assert volumes["campB"] / volumes["campA"] == pytest.approx(1.05, rel=1e-6)
    hashes = {c: {recorded_hash(r) for r in rs} for c, rs in runs.items()}
    assert all(len(h) == 1 for h in hashes.values()) and hashes["campA"] != hashes["campB"]

    folders = [r.rundir.path for rs in runs.values() for r in rs]
    summary = analyze(folders, base / "an")
    assert list(summary["series"]) == ["LLZO"]          # one name, one model, one cell formula
    said = summary["series"]["LLZO"]["mixed_structures"]
    assert said in summary["warnings"] and said in capsys.readouterr().err
    # each hash is named with its own campaign's runs, and only those
    for camp, other in (("campA", "campB"), ("campB", "campA")):
        (digest,) = hashes[camp]
        part = said.split(f"{digest}: ", 1)[1].split(";", 1)[0]
        assert part.count(f"{camp}/") == len(TEMPERATURES) and f"{other}/" not in part
    for key in ("D_Li", "sigma_T"):
        assert "mixed_structures" in summary["arrhenius"]["LLZO"][key]["flags"]
    # each run's results carry the hash its folder records
    for rs in runs.values():
        for r in rs:
            rel = r.rundir.path.relative_to(base)
            res = json.loads((base / "an" / rel / "results.json").read_text())
            assert res["structure_hash"] == recorded_hash(r)

    alone = analyze([r.rundir.path for r in runs["campA"]], base / "an_a")
    assert alone["warnings"] == [] and "mixed_structures" not in alone["series"]["LLZO"]
    assert "mixed_structures" not in alone["arrhenius"]["LLZO"]["D_Li"].get("flags", [])


def test_replicas_of_one_ordered_structure_start_from_one_cell(tmp_path, morse):
    """``ionmd run --order random --replicas 3``: one ordering for every temperature and
    replica (one hash over the six folders); another --order-seed, another cell."""
    disordered_cif(tmp_path / "dis.cif")

    def planned(seed: int) -> set[str]:
        out = tmp_path / f"seed{seed}"
        assert main(["run", "conductivity", str(tmp_path / "dis.cif"), "--model", str(morse),
                     "--temps", "600,900", "--replicas", "3", "--order", "random",
                     "--order-seed", str(seed), "--supercell", "2x2x2", "--name", "LLZO",
                     "-o", str(out), "--dry-run", "--no-progress"]) in (0, None)
        found = list(out.glob("LLZO/*/*/T*K/r*/settings.json"))
        assert len(found) == 6
        return {json.loads(f.read_text())["structure_hash"] for f in found}

    first, second = planned(0), planned(1)
    assert len(first) == 1 and len(second) == 1 and first != second


def test_replicas_of_a_disordered_campaign_are_not_mixed(tmp_path, morse, capsys):
    """A campaign ordering its disordered file (order = "random"), two replicas a
    temperature: one hash, and its series says nothing of mixed structures."""
    runs = planned_campaign(tmp_path / "dis", morse, disordered_cif, replicas=2,
                            extra='order = "random"\n')
    assert len(runs) == 2 * len(TEMPERATURES) and len({recorded_hash(r) for r in runs}) == 1
    notes = json.loads((runs[0].rundir.path / "run.json").read_text())["structure_notes"]
    assert any("random ordering" in n for n in notes)
    summary = analyze([r.rundir.path for r in runs], tmp_path / "an")
    assert summary["warnings"] == [] and "mixed_structures" not in summary["series"]["LLZO"]
    assert "mixed_structures" not in summary["arrhenius"]["LLZO"]["D_Li"].get("flags", [])
    assert "different structures" not in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
