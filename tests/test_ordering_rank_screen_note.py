"""``ionmd screen --order ewald --order-model-rank N`` on a file with nothing to order says
that N ranked nothing, as ``ionmd run`` does (4f20fa4), in the same words (before: silent),
and screens the file's own structure. Reference: the file's cell (pymatgen) and the note
``ionmd run`` prints for the same file and N."""

import json
import warnings

import test_ordering_model_rank

mg_morse = test_ordering_model_rank.mg_morse        # a fixture


def test_screen_says_nothing_was_ranked(mg_morse, tmp_path, capsys):
    from pymatgen.core import Composition, Structure

    from ionmd.cli import main

    path = test_ordering_model_rank.ordered_cif(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["screen", str(path), "--model", str(mg_morse), "--species", "Mg",
                     "--order", "ewald", "--order-model-rank", "3", "--spacing", "0.5",
                     "-o", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code in (0, None), err
    assert ("ionmd: ordered: note: no partially occupied sites to order: --order-model-rank 3 "
            "ranks nothing, the file's structure is screened as it is") in err, err
    (row,) = json.loads((tmp_path / "s" / "screen.json").read_text())
    assert row["status"] == "ok" and "ordering" not in row, row
    # the file itself was screened (no ordered cell written for it; the screen's cell is the
    # file's primitive one)
    assert "structure_file" not in row, row
    assert (Composition(row["formula"]).reduced_formula
            == Structure.from_file(path).composition.reduced_formula), row
    # ionmd run's note on the same file and N: the same words up to what is used instead
    main(["run", "conductivity", str(path), "--model", str(mg_morse), "--dry-run",
          "--supercell", "none", "--order", "ewald", "--order-model-rank", "3",
          "--set", "mobile_species=Mg", "--temps", "600", "-o", str(tmp_path / "runs")])
    run_err = capsys.readouterr().err
    assert (f"ionmd: note: {path} has no partially occupied sites to order: "
            "--order-model-rank 3 ranks nothing, the runs start from the file's own cell"
            in run_err), run_err
