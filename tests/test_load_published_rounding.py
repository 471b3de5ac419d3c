"""A published site occupancy of 0.999(3) is rounding, as 1.001 is: load_structure (every
command's reader: ionmd run, campaigns, bench) reads it as the whole site and says so,
where it refused it as disordered (and --order random then left out 0.004 Li per cell)."""

import pytest

from ionmd.structures.load import OrderOptions, load_structure
from test_structure_rounding_and_conversion import LICL


@pytest.mark.parametrize("order", [None, OrderOptions(method="random")], ids=["plain", "random"])
def test_0999_loads_as_the_file_with_1(tmp_path, order):
    (tmp_path / "a.cif").write_text(LICL.format(li="0.999"))
    (tmp_path / "b.cif").write_text(LICL.format(li="1"))
    with pytest.warns(UserWarning, match="0.999 read as whole"):
        got = load_structure(tmp_path / "a.cif", order)
    ref = load_structure(tmp_path / "b.cif", order)
    assert got.structure.composition == ref.structure.composition
    assert got.rounded_away == {}
