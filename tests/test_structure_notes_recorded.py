"""What ionmd did to a structure file before a run (a published Li 0.999 read as a whole site,
partial occupancies ordered at random) was printed once and lost: the run's record,
run.json, did not say it, so whoever read the run later could not tell. run.json now keeps
it (``structure_notes``) for ``ionmd run`` and a campaign's runs, the screen's row says a
rounding beside its ordering, and a folder written before the field reopens as it was
(no refusal, its run.json and collect's cache key untouched)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from ase.io import read
from pymatgen.io.cif import CifParser

from ionmd.cli import main
from test_structure_rounding_and_conversion import LICL

# rock salt with Li and Cl swapped on half of each site (anti-site disorder): LiCl, neutral
ANTISITE = (LICL.split("Li1 Li")[0].replace("data_LiCl", "data_LiCl_antisite")
            + "Li1 Li 0 0 0 0.5\nCl2 Cl 0 0 0 0.5\nCl1 Cl 0.5 0.5 0.5 0.5\n"
              "Li2 Li 0.5 0.5 0.5 0.5\n")


def dry_run(folder, cif, *extra):
    """``ionmd run --dry-run`` of ``cif`` (one run at 600 K); its run folder."""
    rc = main(["run", "conductivity", str(cif), "--model", str(folder / "morse.pt"),
               "--temps", "600", "--replicas", "1", "--supercell", "none",
               "-o", str(folder / "runs"), "--dry-run", *extra])
    assert rc in (0, None)
    (run,) = (folder / "runs").glob("*/*/*/T*K/r0")
    return run


def run_json(run) -> dict:
    return json.loads((run / "run.json").read_text())


def pymatgen_occupancy(cif, element: str) -> float:
    """The occupancy of ``element``'s site as pymatgen reads the file (not rounded)."""
    structure = CifParser(str(cif)).parse_structures(primitive=False)[0]
    return next(site.species[element] for site in structure if element in site.species)


def data_counts(run) -> Counter:
    atoms = read(run / "struct.data", format="lammps-data", atom_style="atomic",
                 Z_of_type={1: 3, 2: 17} if run_json(run)["type_map"]["1"] == "Li"
                 else {1: 17, 2: 3})
    return Counter(atoms.get_chemical_symbols())


@pytest.fixture
def rounded_cif(folder):
    path = folder / "a.cif"
    path.write_text(LICL.format(li="0.999"))
    return path


def test_a_rounded_occupancy_is_in_run_json(folder, rounded_cif):
    from ionmd.analysis.run_json import read_run_json

    run = dry_run(folder, rounded_cif)
    (note,) = run_json(run)["structure_notes"]
    occupancy = pymatgen_occupancy(rounded_cif, "Li")
    assert occupancy == pytest.approx(0.999)
    assert note.startswith("a.cif: ") and "Li1" in note and f"Li {occupancy:g}" in note
    counts = data_counts(run)               # the sites run whole: Li4 Cl4, as the note says
    assert counts["Li"] == counts["Cl"] == 4
    assert read_run_json(run)["structure_notes"] == [note]  # analysis accepts the key


def test_the_analysis_of_a_run_has_its_notes(folder, rounded_cif):
    from ionmd.analysis.run_spec import load_run_spec
    from ionmd.protocols import RunDir
    from sweep_setup import brownian_run

    run = dry_run(folder, rounded_cif)
    brownian_run(RunDir.open(run), 600.0, seed=1, ea=0.3, d_1000=0.1)   # its files, run
    assert load_run_spec(run).structure_notes == run_json(run)["structure_notes"]
    assert len(load_run_spec(run).structure_notes) == 1
    # and its results.json says them: what was analysed is the file as ionmd changed it
    from ionmd.analysis.run_inputs import identity_of

    assert identity_of(load_run_spec(run))["structure_notes"] == run_json(run)["structure_notes"]


def test_an_ordering_is_in_run_json_with_its_method_and_seed(folder):
    cif = folder / "anti.cif"
    cif.write_text(ANTISITE)
    run = dry_run(folder, cif, "--order", "random", "--order-seed", "3")
    (note,) = run_json(run)["structure_notes"]
    assert note.startswith("partial occupancies ordered: random ordering of anti.cif")
    assert "seed 3" in note and "supercell 1x1x1" in note
    # the cell the note names holds what pymatgen reads the file's sites to hold
    parsed = CifParser(str(cif)).parse_structures(primitive=False)[0].composition
    assert data_counts(run) == Counter({el.symbol: round(n) for el, n in parsed.items()})


def test_a_file_read_as_it_is_says_nothing_was_done(folder):
    assert run_json(dry_run(folder, folder / "fcc.cif"))["structure_notes"] == []


def test_a_campaigns_runs_keep_the_rounding(folder, rounded_cif):
    from ionmd.sweep.campaign import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import write_campaign

    campaign = load_campaign(write_campaign(folder, structures='["a.cif", "fcc.cif"]'))
    runs = plan_campaign(campaign, create=True)
    notes = {(r.structure, r.temperature): run_json(r.path)["structure_notes"] for r in runs}
    occupancy = pymatgen_occupancy(rounded_cif, "Li")
    assert set(notes) == {(s, t) for s in ("a", "fcc") for t in (600.0, 900.0)}
    for (structure, _), said in notes.items():
        if structure == "fcc":
            assert said == []
        else:
            assert len(said) == 1 and f"Li {occupancy:g}" in said[0]


def test_a_launch_and_a_reset_of_a_reopened_folder_keep_the_notes(folder, rounded_cif):
    """A campaign's worker opens the folder from its files (RunDir.open) and writes
    run.json whole at each launch; a failed run's retry (reset) writes it again."""
    from ionmd.protocols import RunDir

    run = dry_run(folder, rounded_cif)
    written = run_json(run)["structure_notes"]
    rd = RunDir.open(run)
    rd.write_run_json(pieces=1, held_charges=True)
    assert run_json(run)["structure_notes"] == written and run_json(run)["logs"]
    rd.reset()
    assert run_json(run)["structure_notes"] == written and not run_json(run)["logs"]


def test_a_folder_written_before_the_field_reopens_untouched(folder, rounded_cif):
    """Reopening compares settings.json, not run.json; collect's cache key digests run.json,
    so reopening (every sweep status, collect, submit) must not add the field to a finished
    run, or each would be analysed again for a note its analysis does not read."""
    from ionmd.sweep.collect import run_json_key

    run = dry_run(folder, rounded_cif)
    key_with = run_json_key(run)
    dry_run(folder, rounded_cif)                          # reopened as written
    assert run_json_key(run) == key_with
    old = {k: v for k, v in run_json(run).items() if k != "structure_notes"}
    (run / "run.json").write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")
    before, key_old = (run / "run.json").read_bytes(), run_json_key(run)
    dry_run(folder, rounded_cif)                          # no "other settings" refusal
    assert (run / "run.json").read_bytes() == before and run_json_key(run) == key_old


@pytest.mark.parametrize("notes", ["a.cif: rounded", [1, 2]])
def test_a_run_json_whose_notes_are_no_strings_is_refused(tmp_path, notes):
    from ionmd.analysis.run_json import read_run_json
    from ionmd.errors import AnalysisError

    (tmp_path / "run.json").write_text(json.dumps({"temperature_K": 600.0,
                                                   "structure_notes": notes}))
    with pytest.raises(AnalysisError, match="'structure_notes' must be a list of strings"):
        read_run_json(tmp_path)


def test_the_screen_row_says_the_rounding(rounded_cif, tiny_f64, tmp_path):
    out = tmp_path / "screen"
    assert main(["screen", str(rounded_cif), "--model", str(tiny_f64), "--spacing", "0.7",
                 "-o", str(out)]) == 0
    (row,) = json.loads((out / "screen.json").read_text())
    occupancy = pymatgen_occupancy(rounded_cif, "Li")
    assert row["status"] == "ok" and "Li1" in row["rounding"]
    assert f"Li {occupancy:g}" in row["rounding"] and "ordering" not in row
