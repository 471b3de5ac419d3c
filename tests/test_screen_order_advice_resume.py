"""A screen's row of a disordered file says "order them first: --order random"; rerun so in
the same folder, the screen refused: "holds a screen made with other settings (order None
there, 'random' now ...)", although no finished row was ordered and none could change, so a
user had to screen everything again elsewhere (hours on real cells). The ordering settings
now count only where a finished row was ordered: the rerun screens the disordered file alone,
and a later change of them is refused as before."""

import json

from ase.build import bulk
from ase.io import write

from test_screen_edited_inputs import _screen, screened  # noqa: F401 - a fixture
from test_structure_notes_recorded import ANTISITE


def test_the_order_advice_is_taken_in_the_same_folder(tiny_f64, tmp_path, screened, capsys):
    lif, anti = tmp_path / "LiF.cif", tmp_path / "anti.cif"
    write(lif, bulk("LiF", "rocksalt", a=4.03))
    anti.write_text(ANTISITE)
    out = tmp_path / "out"
    assert _screen(tiny_f64, [lif, anti], out) == 3               # anti.cif: disordered
    rows = {r["name"]: r for r in json.loads((out / "screen.json").read_text())}
    assert rows["LiF"]["status"] == "ok" and "--order random" in rows["anti"]["error"]

    screened.clear(), capsys.readouterr()
    order = ["--order", "random", "--order-seed", "3"]
    assert _screen(tiny_f64, [lif, anti], out, *order) == 0
    assert [f for f, _ in screened] == ["Cl4Li4"]                 # the ordered file alone
    assert "1 structure(s) screened now (1 finished before), 0 failed" in capsys.readouterr().err
    rows = {r["name"]: r for r in json.loads((out / "screen.json").read_text())}
    assert rows["anti"]["status"] == "ok" and rows["anti"]["ordering"]
    # an ordered row now stands on those settings: another seed is refused
    assert _screen(tiny_f64, [lif, anti], out, "--order", "random", "--order-seed", "4") == 1
    assert "order_seed 3 there, 4 now" in capsys.readouterr().err
