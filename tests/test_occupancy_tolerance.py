"""The default occupancy tolerance has one home
(``ionmd.structures.occupancy_tolerance.OCCUPANCY_TOLERANCE``): the ordering's defaults,
``--order-tol`` and its help, a campaign's ``order_tol`` and its range message, and the
fill of published rounding all follow it (it was the literal 2e-3 in eight places, which
could silently disagree: a file read as whole by ``ionmd run`` but refused by a
campaign). Both its comparisons are inclusive (a deficit the fill reads as rounding is one
the ordering rounds away in one cell), and the fill's note is kept on the loaded
structure as well as issued once as a :class:`RoundingNote`."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from ionmd.structures.checks import rounded_sites
from ionmd.structures.load import OrderOptions, load_structure
from ionmd.structures.occupancy_tolerance import RoundingNote
from ionmd.structures.ordering import integral_supercell
from test_structure_rounding_and_conversion import LICL

CHANGED = 0.0123
"""A tolerance above Li 0.99's deficit of 0.01, which the shipped 2e-3 keeps as vacancies."""

# every default read in a fresh interpreter whose one constant was changed first
_PROBE = """
import contextlib, inspect, io, json, sys, types
import ionmd.structures.occupancy_tolerance as tolerance
tolerance.OCCUPANCY_TOLERANCE = {changed!r}
from ionmd.cli import build_parser
from ionmd.cli.options import order_options
from ionmd.protocols.setting_ranges import range_problem
from ionmd.structures.checks import fill_rounded_sites
from ionmd.structures.load import OrderOptions, load_structure
from ionmd.structures.ordering import integral_supercell, order_structure
from ionmd.sweep.campaign_problems import Problems
from ionmd.sweep.campaign_structures import _load_structure

path = sys.argv[1]
args = build_parser().parse_args(["run", "conductivity", path, "--model", "m.pt"])
help_text = io.StringIO()
with contextlib.redirect_stdout(help_text), contextlib.suppress(SystemExit):
    build_parser().parse_args(["run", "--help"])
errors = Problems(types.SimpleNamespace(path="campaign.toml", line=lambda *key: 1))
atoms, _, _, _ = _load_structure(errors, ("structures", 0), path, {{}})
loaded = load_structure(path)
print(json.dumps({{
    "OrderOptions": OrderOptions().occ_tol,
    "--order-tol": args.order_tol,
    "order_options": order_options(args).occ_tol,
    "help": " ".join(help_text.getvalue().split()),
    "range message": range_problem("order_tol", 5.0),
    "order_structure": inspect.signature(order_structure).parameters["occ_tol"].default,
    "integral_supercell": inspect.signature(integral_supercell).parameters["occ_tol"].default,
    "fill_rounded_sites": inspect.signature(fill_rounded_sites).parameters["tol"].default,
    "campaign cell": atoms.get_chemical_formula() if atoms is not None else None,
    "campaign problems": [m for _, m in errors.items],
    "loaded formula": loaded.structure.composition.formula,
    "loaded rounding": loaded.rounding,
}}))
"""


def _cif(folder: Path, li: str) -> Path:
    path = folder / f"LiCl_{li}.cif"
    path.write_text(LICL.format(li=li))
    return path


@pytest.fixture(scope="module")
def changed_defaults(tmp_path_factory) -> dict:
    """What each reader of the default took, with the constant changed to ``CHANGED``,
    reading a LiCl CIF with Li 0.99."""
    path = _cif(tmp_path_factory.mktemp("tolerance"), "0.99")
    done = subprocess.run([sys.executable, "-c", _PROBE.format(changed=CHANGED), str(path)],
                          capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("reader", ["OrderOptions", "--order-tol", "order_options",
                                    "order_structure", "integral_supercell",
                                    "fill_rounded_sites"])
def test_every_default_follows_the_one_constant(changed_defaults, reader):
    assert changed_defaults[reader] == CHANGED


def test_the_help_and_range_message_name_the_constant(changed_defaults):
    assert f"default {CHANGED:g}: exact" in changed_defaults["help"]
    assert f"{CHANGED:g} is exact" in changed_defaults["range message"]


def test_campaign_and_run_read_li_099_alike(changed_defaults):
    """At a tolerance of 0.0123, Li 0.99 (a deficit of 0.01) is rounding: the campaign's
    loader and ``load_structure`` both read the conventional cell as whole Li4 Cl4 (pymatgen
    places 4 + 4 atoms in Fm-3m's conventional cell); with 2e-3 left in the campaign it was
    refused as partially occupied."""
    assert changed_defaults["campaign problems"] == []
    assert changed_defaults["campaign cell"] == "Cl4Li4"
    assert changed_defaults["loaded formula"] == "Li4 Cl4"
    assert "0.99 read as whole" in changed_defaults["loaded rounding"]


@pytest.mark.parametrize("deficit", [0.001, 0.002, 0.0021, 0.003])
def test_fill_and_ordering_agree_where_rounding_ends(deficit):
    """A site 1 - d is read as whole by the fill exactly where the ordering, at the same
    tolerance, rounds its vacancies away in one cell: both inclusive at d = tol (in floats,
    1 - 0.998 = 0.0020000000000000018)."""
    tol = 2e-3
    cell = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.1295),
                                     [{"Li": 1 - deficit}, "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    filled = bool(rounded_sites(cell, tol))
    one_cell = integral_supercell(cell, occ_tol=tol) == (1, 1, 1)
    assert filled == one_cell == (deficit <= tol)


def _load_recording(path: Path, order=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_structure(path, order)
    return loaded, [w for w in caught if issubclass(w.category, RoundingNote)]


@pytest.mark.parametrize("order", [None, OrderOptions(method="random")], ids=["plain", "random"])
def test_the_rounding_note_is_kept_and_issued_once(tmp_path, order):
    path = _cif(tmp_path, "0.999")
    loaded, notes = _load_recording(path, order)
    assert "occupancies adding up to 0.999 read as whole sites (Li1: Li 0.999)" in loaded.rounding
    assert len(notes) == 1
    assert str(notes[0].message) == f"{str(path)!r}: {loaded.rounding}"
    assert issubclass(RoundingNote, UserWarning)    # Python callers' filters still apply


def test_the_note_is_kept_where_the_warning_is_ignored(tmp_path):
    """A caller that prints the note itself ignores the warning and loses nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)     # no other warning stands in for it
        warnings.simplefilter("ignore", RoundingNote)   # checked first: the later filter
        loaded = load_structure(_cif(tmp_path, "0.999"))
    assert "0.999 read as whole" in loaded.rounding


def test_a_whole_file_has_no_rounding_note(tmp_path):
    loaded, notes = _load_recording(_cif(tmp_path, "1"))
    assert loaded.rounding == "" and notes == []
