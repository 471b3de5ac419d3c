"""A campaign's ``order_model_rank = N``: each model re-ranks the N lowest-Ewald
arrangements by its own energy and its runs start from the one it keeps (two models: two
cells, two series), ranked once and cached in ``campaign_ordering_rank.json`` above the runs
(plan, status and collect evaluate no model), a changed N whose choice differs from the
cell of started runs is refused naming them, and the kept cell is the one ``ionmd run
--order ewald --order-model-rank N`` keeps for the same file and model.

References: the candidates of ``load_structure(..., candidates=N)`` (checked against
pymatgen's EwaldSummation in test_ordering_model_rank.py), energies this test sets (a
patched ``structure_energies``: which candidate each model prefers is known), and
``ionmd run``'s own run folders."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from contract_models import MorseEdgeModel, save_contract_model
from test_ordering_model_rank import CELL, MORSE, half_mg_rocksalt

CAMPAIGN = """\
name = "mr"
output = "runs"
structures = ["mgcl2.cif"]
models = {models}
temperatures = [600]
replicas = 1
order = "ewald"
order_model_rank = {n}

[protocol]
name = "conductivity"
mobile_species = "Mg"
duration_ps = 0.5
discard_ps = 0.1
dump_every = 10
thermo_every = 10
restart_every = 100
supercell = "none"

[resources]
ranks = 1
walltime = "0:10:00"

[executor]
kind = "local"
cores = 2

[analysis]
charges = {{Mg = 2, Cl = -1}}
mcmc_samples = 50
fit_start_ps = 0.05
window_ps = 0.2
"""


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """Two Morse models of other identities (a and b), Mg and Cl."""
    folder = tmp_path_factory.mktemp("mrm")
    return {name: save_contract_model(MorseEdgeModel(**MORSE), folder / f"{name}.pt",
                                      cutoff=MORSE["rc"], elements=["Mg", "Cl"], tag=name)
            for name in ("a", "b")}


def _campaign(folder: Path, models: dict, n: int, names=("a", "b")) -> Path:
    """The 1x1x2 cell as the file's own (8 cation sites, 4 Mg: 70 arrangements)."""
    from pymatgen.io.cif import CifWriter

    folder.mkdir(parents=True, exist_ok=True)
    CifWriter(half_mg_rocksalt().make_supercell(CELL, in_place=False)).write_file(
        folder / "mgcl2.cif")
    path = folder / "mr.toml"
    path.write_text(CAMPAIGN.format(models=json.dumps([str(models[k]) for k in names]), n=n))
    return path


@pytest.fixture
def prefer(monkeypatch):
    """``prefer({"a": 2, "b": 3})``: each model's energies make that Ewald rank the lowest
    (1 eV below the others); every call is counted in ``prefer.calls``."""
    import ionmd.screen.ordering_rank as ordering_rank

    class Prefer:
        calls: list = []

        def __call__(self, ranks: dict):
            def energies(runner, structures, max_nodes=None):
                self.calls.append(Path(runner.path).stem)
                out = np.zeros(len(structures))
                out[ranks[Path(runner.path).stem] - 1] = -1.0
                return out

            monkeypatch.setattr(ordering_rank, "structure_energies", energies)

    return Prefer()


def _entry(cache: Path, supercell=None, n=None) -> dict:
    """The cached ranking of ``supercell`` (the protocol's; and N) in a series' cache file,
    which holds one entry per key."""
    entries = json.loads(cache.read_text())["entries"]
    found = [e for e in entries if e["campaign_key"]["supercell"] == supercell
             and n in (None, e["campaign_key"]["order_model_rank"])]
    assert len(found) == 1, entries
    return found[0]


def _hashes(runs: Path, model: str) -> set[str]:
    return {json.loads(p.read_text())["structure_hash"]
            for p in (runs / "mgcl2" / model).glob("*/T*K/r*/settings.json")}


def _candidate_hash(folder: Path, n: int, rank: int) -> str:
    """The run cell's hash of the candidate of Ewald rank ``rank`` among ``n``."""
    from ionmd.protocols.prepare import as_atoms
    from ionmd.protocols.run_settings import structure_hash
    from ionmd.structures import OrderOptions, load_structure

    loaded = load_structure(folder / "mgcl2.cif", OrderOptions("ewald", candidates=n))
    return structure_hash(as_atoms(loaded.candidates[rank - 1].structure))


def test_two_models_keep_their_own_cells_ranked_once(models, prefer, tmp_path, capsys):
    from ionmd.cli import main
    from ionmd.sweep import load_campaign, plan_campaign

    path = _campaign(tmp_path, models, 3)
    prefer({"a": 2, "b": 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan_campaign(load_campaign(path), create=True)
    assert sorted(prefer.calls) == ["a", "b"]            # each model ranked once
    runs = tmp_path / "runs"
    for model, rank in (("a", 2), ("b", 3)):
        record = _entry(runs / "mgcl2" / model / "campaign_ordering_rank.json")
        assert record["chosen_ewald_rank"] == rank
        assert _hashes(runs, model) == {_candidate_hash(tmp_path, 3, rank)}
    assert _hashes(runs, "a") != _hashes(runs, "b")      # two cells, two series
    prefer.calls.clear()
    capsys.readouterr()
    assert main(["sweep", "plan", str(path)]) in (0, None)
    out = capsys.readouterr().out
    assert "mgcl2 x a: partial occupancies ordered" in out and "kept Ewald rank 2" in out
    assert "mgcl2 x b: partial occupancies ordered" in out and "kept Ewald rank 3" in out
    main(["sweep", "status", str(path)])
    main(["sweep", "collect", str(path), "--no-progress"])
    assert prefer.calls == []                            # the cache answered each command


def test_a_changed_n_whose_choice_differs_is_refused_naming_the_runs(models, prefer,
                                                                     tmp_path):
    from ionmd.sweep import CampaignError, load_campaign, plan_campaign

    path = _campaign(tmp_path, models, 3, names=("a",))
    prefer({"a": 2})
    plan_campaign(load_campaign(path), create=True)
    cache = tmp_path / "runs" / "mgcl2" / "a" / "campaign_ordering_rank.json"
    before = cache.read_text()
    run = next((tmp_path / "runs" / "mgcl2" / "a").glob("*/T*K/r*"))
    path.write_text(path.read_text().replace("order_model_rank = 3", "order_model_rank = 4"))
    prefer({"a": 4})
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    text = str(exc.value)
    assert str(run) in text and "order_model_rank = 3" in text, text
    assert "Ewald rank 4" in text and "Ewald rank 2" in text, text
    assert cache.read_text() == before               # the runs' ranking is kept
    # the refusal is kept under its ranking key (one model gives one set of energies);
    # this test's model changes its energies, so it drops that record
    (cache.parent / "campaign_ordering_rank_refused.json").unlink()
    prefer({"a": 2})                                  # N = 4 keeping the same cell: taken
    campaign = load_campaign(path)
    plan_campaign(campaign, create=True)
    assert _entry(cache, n=4)["candidates_asked"] == 4     # beside N = 3's entry


def test_the_kept_cell_is_the_one_ionmd_run_keeps(models, tmp_path, capsys):
    """The real (Morse) model, no energies patched: the campaign's runs start from the
    cell ``ionmd run`` starts from, and it is not the lowest-Ewald one."""
    from ionmd.cli import main
    from ionmd.sweep import load_campaign, plan_campaign

    path = _campaign(tmp_path / "c", models, 4, names=("a",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan_campaign(load_campaign(path), create=True)
        code = main(["run", "conductivity", str(tmp_path / "c" / "mgcl2.cif"),
                     "--model", str(models["a"]), "--dry-run", "--supercell", "none",
                     "--order", "ewald", "--order-model-rank", "4",
                     "--set", "mobile_species=Mg", "--temps", "600",
                     "-o", str(tmp_path / "run")])
    assert code in (0, None), capsys.readouterr()
    record = json.loads((tmp_path / "run" / "mgcl2" / "a" / "conductivity"
                         / "ordering_rank.json").read_text())
    assert record["chosen_ewald_rank"] != 1
    ours = _entry(tmp_path / "c" / "runs" / "mgcl2" / "a" / "campaign_ordering_rank.json")
    assert ours["chosen_ewald_rank"] == record["chosen_ewald_rank"]
    assert _hashes(tmp_path / "c" / "runs", "a") == _hashes(tmp_path / "run", "a")
    assert _hashes(tmp_path / "run", "a") != {_candidate_hash(tmp_path / "c", 4, 1)}


def test_two_campaigns_of_other_supercells_in_one_output_keep_their_own_rankings(
        models, monkeypatch, tmp_path):
    """X (conductivity, the file's cell) and Y (conductivity-nvt, 2x1x1) into one output:
    one cache file, an entry each. With one entry, Y ranked again and was refused naming
    X's runs ("supercell: None then, '2x1x1' now"). The patched energies prefer Ewald rank 2
    of the 12-atom candidates and 3 of the 24-atom ones; a changed N of X whose choice
    differs is still refused, naming X's run and not Y's."""
    import ionmd.screen.ordering_rank as ordering_rank
    from ionmd.sweep import CampaignError, load_campaign, plan_campaign

    calls = []

    def energies(runner, structures, max_nodes=None):
        calls.append(len(structures[0]))
        out = np.zeros(len(structures))
        out[(2 if len(structures[0]) == 12 else 3) - 1] = -1.0
        return out

    monkeypatch.setattr(ordering_rank, "structure_energies", energies)
    x = _campaign(tmp_path, models, 3, names=("a",))
    y = tmp_path / "y.toml"
    y.write_text(x.read_text().replace('name = "conductivity"', 'name = "conductivity-nvt"')
                 .replace('supercell = "none"', 'supercell = "2x1x1"')
                 .replace('name = "mr"', 'name = "my"'))
    series = tmp_path / "runs" / "mgcl2" / "a"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in (x, y, x, y):
            plan_campaign(load_campaign(path), create=True)
    assert calls == [12, 24]                     # each ranked once, then read back
    cache = series / "campaign_ordering_rank.json"
    assert _entry(cache)["chosen_ewald_rank"] == 2
    assert _entry(cache, "2x1x1")["chosen_ewald_rank"] == 3
    cells = {p.parent.parent.parent.name: json.loads(p.read_text())["structure_hash"]
             for p in series.glob("*/T*K/r*/settings.json")}
    assert cells == {"conductivity": _candidate_hash(tmp_path, 3, 2),
                     "conductivity-nvt": _entry(cache, "2x1x1")["run_cell_hash"]}
    assert cells["conductivity"] != cells["conductivity-nvt"]

    x.write_text(x.read_text().replace("order_model_rank = 3", "order_model_rank = 4"))
    monkeypatch.setattr(ordering_rank, "structure_energies",
                        lambda runner, structures, max_nodes=None: np.eye(len(structures))[3] * -1)
    with pytest.raises(CampaignError) as exc:
        load_campaign(x)
    text = str(exc.value)
    assert "Ewald rank 4" in text and "kept Ewald rank 2" in text, text
    assert "order_model_rank: 3 then, 4 now" in text and "supercell" not in text, text
    assert str(series / "conductivity") in text and "conductivity-nvt" not in text, text


def test_a_single_ranking_file_of_before_is_read(models, prefer, tmp_path):
    """A cache holding one record (written since 5ebb04c, before it held one per key) is
    that key's entry: the campaign takes its choice without evaluating a model."""
    from ionmd.sweep import load_campaign, plan_campaign

    path = _campaign(tmp_path, models, 3, names=("a",))
    prefer({"a": 2})
    plan_campaign(load_campaign(path), create=True)
    cache = tmp_path / "runs" / "mgcl2" / "a" / "campaign_ordering_rank.json"
    cache.write_text(json.dumps(_entry(cache)))          # the single-record file
    prefer({"a": 3})
    prefer.calls.clear()
    kept = load_campaign(path).structures[0].ranked["a"]
    assert prefer.calls == [] and "kept Ewald rank 2" in kept.ordering
