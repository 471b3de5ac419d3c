"""``ionmd sweep collect``'s line per temperature names each mobile species' D where a
run has several (a Li/Na chloride with mobile_species = ["Li", "Na"]: audit A26). Before
it printed one unnamed ``D = ...``, Li's, and Na's D was in the tables only."""

from __future__ import annotations

import json

from ase.build import bulk

from contract_models import PairMorseEdgeModel, save_contract_model


def _mixed_campaign(folder):
    from ionmd.protocols.md_input import INPUTS

    # Li and Na bound weakly (Morse 0.01-0.02 eV) in a rock-salt Cl lattice held still
    d0 = [[0.01, 0.01, 0.02], [0.01, 0.01, 0.02], [0.02, 0.02, 0.5]]
    r0 = [[3.6, 3.6, 2.6], [3.6, 3.6, 2.6], [2.6, 2.6, 3.6]]
    save_contract_model(PairMorseEdgeModel(d0=d0, r0=r0, alpha=1.5, rc=6.0, wall_A=1000.0,
                                           wall_rho=0.2),
                        folder / "linacl.pt", cutoff=6.0, elements=["Li", "Na", "Cl"])
    (folder / "frozen.lmp").write_text((INPUTS / "md.lmp").read_text().replace(
        "$ensemble", "$ensemble\ngroup           cl type 3\nvelocity        cl set 0 0 0\n"
                     "fix             freeze cl setforce 0.0 0.0 0.0"))
    atoms = bulk("NaCl", "rocksalt", a=5.1, cubic=True).repeat(2)
    symbols = atoms.get_chemical_symbols()
    for i in [i for i, s in enumerate(symbols) if s == "Na"][::2]:
        symbols[i] = "Li"
    atoms.set_chemical_symbols(symbols)
    atoms.write(folder / "LiNaCl2.cif")
    (folder / "c.toml").write_text(
        'output = "runs"\nstructures = ["LiNaCl2.cif"]\nmodels = ["linacl.pt"]\n'
        'temperatures = [1300]\n[protocol]\nname = "conductivity"\nduration_ps = 1.0\n'
        'discard_ps = 0.1\ndump_every = 20\ntemplate = "frozen.lmp"\n'
        'mobile_species = ["Li", "Na"]\n[analysis]\nfit_start_ps = 0.1\n')
    return folder / "c.toml"


def test_collect_names_each_mobile_species_d(tmp_path, capsys, monkeypatch):
    from ionmd.cli import main

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    campaign = _mixed_campaign(tmp_path)
    assert main(["sweep", "submit", str(campaign), "--no-progress"]) in (0, None)
    capsys.readouterr()
    assert main(["sweep", "collect", str(campaign), "--no-progress"]) in (0, None)
    out = capsys.readouterr().out
    (row,) = json.loads((tmp_path / "runs" / "collect" / "results.json").read_text())["rows"]
    (line,) = [ln for ln in out.splitlines() if ln.startswith("LiNaCl2 linacl 1300 K:")]
    for species in ("Li", "Na"):       # each D as the table holds it, under its name
        assert f"D({species}) = {row['D_' + species]['value']:.3g} [" in line
