"""Every command that reads a structure file reads it one way (ionmd.structures.
load_structures): a disordered CIF is refused with its partial sites named or ordered
with --order, never simulated as ASE happens to read it (an atom on every partial site);
overlapping atoms, two atoms on one site, unknown symbols, empty and non-structure files
stop with one line saying what to fix. The matrix below is the table of issue 17."""

from __future__ import annotations

import json
import re

import pytest
from ase.build import bulk
from ase.io import write

from ionmd.cli import main
from ionmd.structures import example_path
from contract_models import MorseEdgeModel, save_contract_model
from protocol_setup import MORSE
from structures import p1_cif
from sweep_setup import campaign_dir, write_campaign

LICL_TWO_ON_ONE_SITE = p1_cif("x", 5.14, [("Li1", "Li", 0, 0, 0, 1), ("Li2", "Li", 0, 0, 0, 1),
                                          ("Cl1", "Cl", 0.5, 0.5, 0.5, 1)])

# input -> (file text or writer, the message the commands must print)
BAD = {
    "disordered": ("Li3YCl6.cif", r"partially occupied sites \(Li1: Li 0\.875; Li2: Li 0\.625.*--order"),
    "overlapping": ("overlap.cif", r"atoms 0 \(Li\) and 1 \(Li\) are 0\.300 A apart"),
    "two_on_one_site": ("two.cif", r"more than one atom on one site \(occupancies add up to 2\.0\)"),
    "unknown_symbol": ("x.cif", r"unknown element symbol 'X'"),
    "empty": ("empty.cif", r"is empty"),
    "not_a_structure": ("notes.cif", r"cannot read .*notes\.cif"),
    # files that pymatgen or ASE would read by guessing (the wrong crystal, silently)
    "poscar_without_elements": ("POSCAR_vasp4", r"names no elements \(a VASP 4 POSCAR"),
    "lammps_data_without_masses": ("struct.data", r"without a Masses section"),
    "space_group_not_understood": ("rh.cif", r"cannot interpret its space group 'R -3 w :H'"),
    "cif_without_cell": ("nocell.cif", r"has no unit cell"),
    "xyz_without_cell": ("mol.xyz", r"has no periodic cell"),
    "overfull_beyond_rounding": ("over.cif", r"add up to 1\.05\), beyond the 1 % that rounding"),
    # atoms pymatgen leaves out: a site typed as a group (dropped), H only counted
    "group_type_symbol": ("group.cif", r"site OH1 \(type 'OH'\) names a group of atoms"),
    "unplaced_hydrogens": ("hidden_h.cif", r"_atom_site_attached_hydrogens: Cl1 \(1 H\)"),
}

# LiCoO2 in R-3m's hexagonal setting with a symbol no table knows ('R -3 w :H', a typo), no
# symmetry operators, no space-group number (pymatgen would read LiCoO, P1)
RH_WITHOUT_OPERATORS = """data_LiCoO2
_symmetry_space_group_name_H-M 'R -3 w :H'
_cell_length_a 2.816
_cell_length_b 2.816
_cell_length_c 14.05
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Li1 Li 0 0 0.5
Co1 Co 0 0 0
O1 O 0 0 0.2604
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    (d / "Li3YCl6.cif").write_text(example_path("Li3YCl6").read_text())
    (d / "two.cif").write_text(LICL_TWO_ON_ONE_SITE)
    (d / "overlap.cif").write_text(LICL_TWO_ON_ONE_SITE.replace("Li2 Li 0 0 0 1", "Li2 Li 0.058366 0 0 1"))
    (d / "x.cif").write_text(LICL_TWO_ON_ONE_SITE.replace("Li2 Li 0 0 0 1", "X2 X 0.25 0.25 0 1"))
    (d / "empty.cif").write_text("")
    (d / "notes.cif").write_text("my notes on Li3YCl6\n")
    licl = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    write(d / "POSCAR_vasp4", licl, format="vasp", vasp5=False)
    text = (d / "POSCAR_vasp4").read_text()     # a first line that names no elements
    (d / "POSCAR_vasp4").write_text("rocksalt LiCl" + text[text.index("\n"):])
    write(d / "struct.data", licl, format="lammps-data", atom_style="atomic")   # no masses
    (d / "rh.cif").write_text(RH_WITHOUT_OPERATORS)
    licl_cif = p1_cif("x", 5.14, [("Li1", "Li", 0, 0, 0, 1), ("Cl1", "Cl", 0.5, 0.5, 0.5, 1)])
    (d / "nocell.cif").write_text("\n".join(
        ln for ln in licl_cif.splitlines() if not ln.startswith("_cell_")))
    write(d / "mol.xyz", licl, format="xyz")                    # plain XYZ: no cell
    (d / "over.cif").write_text(p1_cif("x", 5.14, [("Li1", "Li", 0, 0, 0, 0.5),
                                                   ("Li2", "Li", 0, 0, 0, 0.55),
                                                   ("Cl1", "Cl", 0.5, 0.5, 0.5, 1)]))
    group = p1_cif("x", 5.14, [("Li1", "Li", 0, 0, 0, 1), ("Cl1", "Cl", 0.5, 0.5, 0.5, 1),
                               ("OH1", "OH", 0.25, 0.25, 0.25, 1)])
    (d / "group.cif").write_text(group)
    (d / "hidden_h.cif").write_text(
        LICL_TWO_ON_ONE_SITE.replace("Li2 Li 0 0 0 1\n", "").replace(
            "_atom_site_occupancy\n", "_atom_site_occupancy\n_atom_site_attached_hydrogens\n")
        .replace("Li1 Li 0 0 0 1\n", "Li1 Li 0 0 0 1 0\n").replace(" 0.5 1\n", " 0.5 1 1\n"))
    # species-blind Morse: the commands need a model that knows Y too
    save_contract_model(MorseEdgeModel(**MORSE), d / "morse.pt", cutoff=MORSE["rc"],
                        elements=["Li", "Y", "Cl"])
    return d


def _run(argv, capsys) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("kind", sorted(BAD))
def test_run_bench_screen_and_sweep_refuse_with_one_message(kind, files, tmp_path, capsys):
    name, message = BAD[kind]
    path, model = files / name, files / "morse.pt"
    commands = {
        "run conductivity": ["run", "conductivity", path, "--model", model, "--dry-run",
                             "-o", tmp_path / "runs"],
        "run ev-scan": ["run", "ev-scan", path, "--model", model, "--dry-run", "-o", tmp_path / "ev"],
        "bench --structure": ["bench", model, "--structure", path, "--atoms", "8", "--np", "1",
                              "-o", tmp_path / "bench"],
    }
    for what, argv in commands.items():
        code, text = _run(argv, capsys)
        assert code == 1, (what, text)
        assert "Traceback" not in text
        assert len([ln for ln in text.splitlines() if ln.startswith("ionmd: error")]) == 1, text
        assert re.search(message, text), (what, text)
        assert not (tmp_path / "runs").exists() and not (tmp_path / "ev").exists()
    # the screen records the reason as the structure's row and goes on (exit 3: all failed)
    code, text = _run(["screen", path, "--model", model, "-o", tmp_path / "screen"], capsys)
    assert code != 0 and "Traceback" not in text
    (row,) = json.loads((tmp_path / "screen" / "screen.json").read_text())
    assert row["status"] == "error" and re.search(message, row["error"]), row
    # a campaign names the file and line
    folder = campaign_dir(tmp_path / "campaign", model)
    (folder / name).write_text(path.read_text())
    campaign = write_campaign(folder, structures=f'["{name}"]', models='["morse.pt"]')
    code, text = _run(["sweep", "plan", campaign], capsys)
    assert code == 1 and "line" in text and re.search(message, text), text


def test_ordered_with_order_options_everywhere(files, tmp_path, capsys):
    """--order random orders Li3YCl6 (Li9Y3Cl18 in one cell with --order-tol 0.15) for
    run (both families); the run directories hold the ordered cell."""
    path, model = files / "Li3YCl6.cif", files / "morse.pt"
    order = ["--order", "random", "--order-seed", "2", "--order-tol", "0.15"]
    code, text = _run(["run", "ev-scan", path, "--model", model, "--dry-run",
                       "-o", tmp_path / "ev", *order], capsys)
    assert code == 0, text
    assert "random ordering of Li3YCl6.cif, supercell 1x1x1, seed 2" in text
    data = sorted((tmp_path / "ev").rglob("ev.000.data"))
    assert len(data) == 1 and "30 atoms" in data[0].read_text()
    code, text = _run(["run", "conductivity", path, "--model", model, "--dry-run", "--supercell",
                       "none", "-o", tmp_path / "runs", *order], capsys)
    assert code == 0, text
    data = sorted((tmp_path / "runs").rglob("struct.data"))     # one per temperature
    assert len(data) == 5 and all("30 atoms" in d.read_text() for d in data)


def test_disordered_file_is_ordered_in_the_protocols_supercell(tmp_path, capsys):
    """A preset's supercell (conductivity-nvt: 2x2x2 repetitions of the file's cell) is the
    cell the runs use, also for a disordered file: LiCl0.875Br0.125 needs two cells to make
    its occupancies whole, and is ordered in the 2x2x2 cell (64 atoms, 4 Br), not ordered
    in its smallest cell and then repeated 2x2x2 (twice the atoms). A supercell that leaves
    occupancies fractional is refused naming the sites; a campaign builds the same cell."""
    from ase.io import read

    from ionmd.sweep import load_campaign, plan_campaign

    fcc = [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)]
    rows = [(f"Li{i}", "Li", *p, 1) for i, p in enumerate(fcc)]
    for i, p in enumerate(fcc):
        q = [(x + 0.5) % 1 for x in p]
        rows += [(f"Cl{i}", "Cl", *q, 0.875), (f"Br{i}", "Br", *q, 0.125)]
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "mixed.cif").write_text(p1_cif("mixed", 5.3, rows))
    save_contract_model(MorseEdgeModel(**MORSE), folder / "morse.pt", cutoff=MORSE["rc"],
                        elements=["Li", "Cl", "Br"])

    def cell_of(data):
        symbols = read(data, format="lammps-data", atom_style="atomic").get_chemical_symbols()
        return len(symbols), symbols.count("Br")

    order = ["--order", "random", "--order-seed", "1"]
    code, text = _run(["run", "conductivity-nvt", folder / "mixed.cif", "--model",
                       folder / "morse.pt", "--dry-run", "-o", tmp_path / "runs", *order], capsys)
    assert code == 0, text
    assert "supercell 2x2x2" in text and "64 atoms (Br4Cl28Li32) each" in text
    data = sorted((tmp_path / "runs").rglob("struct.data"))
    assert data and all(cell_of(d) == (64, 4) for d in data)

    code, text = _run(["run", "conductivity-nvt", folder / "mixed.cif", "--model",
                       folder / "morse.pt", "--dry-run", "--supercell", "1x1x1",
                       "-o", tmp_path / "one", *order], capsys)
    assert code == 1 and "supercell 1x1x1 gives non-integral occupancies" in text, text
    assert not (tmp_path / "one").exists()

    campaign = write_campaign(folder, structures='["mixed.cif"]', protocol="conductivity-nvt",
                              extra='order = "random"\norder_seed = 1')
    campaign.write_text(campaign.read_text().replace('supercell = "none"', 'supercell = "2x2x2"'))
    runs = plan_campaign(load_campaign(campaign), create=True)
    assert runs and all(cell_of(r.path / "struct.data") == (64, 4) for r in runs)


def test_ev_scan_dry_run_runs_nothing(files, tmp_path, capsys):
    write(tmp_path / "POSCAR", bulk("LiCl", "rocksalt", a=5.14, cubic=True), format="vasp")
    code, text = _run(["run", "ev-scan", tmp_path / "POSCAR", "--model", files / "morse.pt",
                       "--dry-run", "-o", tmp_path / "ev"], capsys)
    assert code == 0, text
    (folder,) = {p.parent for p in (tmp_path / "ev").rglob("in.ev.lmp")}
    assert len(list(folder.glob("ev.*.data"))) == 21
    assert not list(folder.glob("log*")) and not (folder / "ev.json").exists()
    assert not (folder / "status.json").exists() and "nothing run" in text


@pytest.mark.parametrize("flag, value, message", [
    ("--time", "nan", "cannot read time 'nan'"),
    ("--time", "-5ps", "cannot read time '-5ps'"),
    ("--temps", "inf", "cannot read temperatures"),
    ("--np", "0", "give a whole number >= 1"),
    ("--np", "-2", "give a whole number >= 1"),
    ("--set", "timestep_fs=nan", "timestep_fs must be a finite number"),
])
def test_bad_numbers_stop_with_one_line(flag, value, message, files, tmp_path, capsys):
    write(tmp_path / "POSCAR", bulk("LiCl", "rocksalt", a=5.14, cubic=True), format="vasp")
    argv = ["run", "conductivity", tmp_path / "POSCAR", "--model", files / "morse.pt",
            "--dry-run", "-o", tmp_path / "runs", f"{flag}={value}"]
    try:
        code, text = _run(argv, capsys)
    except SystemExit as exc:          # argparse: usage error, exit 2
        code, text = exc.code, capsys.readouterr().err
    assert code in (1, 2) and message in text and "Traceback" not in text
    assert not (tmp_path / "runs").exists()


def test_readme_run_examples_as_written(files, tmp_path, capsys, monkeypatch):
    """The README's `ionmd run` lines on the shipped Li3YCl6.cif (model: a Morse stand-in
    that knows Li, Y, Cl; --dry-run added): ordered when they say --order, refused with
    the partial sites named when they do not; never run on ASE's 35-atom reading."""
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    lines = [ln.split("#")[0].strip() for ln in readme.splitlines() if ln.startswith("ionmd run ")]
    assert len(lines) >= 4
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Li3YCl6.cif").write_text(example_path("Li3YCl6").read_text())
    (tmp_path / "sevennet0.pt").write_bytes((files / "morse.pt").read_bytes())
    for line in lines:
        argv = shlex.split(line)[1:]
        argv += [] if "--dry-run" in argv else ["--dry-run"]
        code, text = _run(argv, capsys)
        if "--order" in argv:
            assert code == 0, (line, text)
            assert "ordering of Li3YCl6.cif" in text
        else:
            assert code == 1 and "partially occupied sites (Li1: Li 0.875" in text, (line, text)
    from ase.io import read

    for data in tmp_path.rglob("*.data"):        # the ordered Li9Y3Cl18, maybe repeated
        symbols = read(data, format="lammps-data", atom_style="atomic").get_chemical_symbols()
        n_y = symbols.count("Y")
        assert symbols.count("Li") == 3 * n_y and symbols.count("Cl") == 6 * n_y, data


@pytest.mark.parametrize("argv, message", [
    (["screen", "{poscar}", "--spacing", "nan"], "give a finite number > 0, got 'nan'"),
    (["screen", "{poscar}", "--rmin", "-1"], "give a finite number >= 0, got '-1'"),
    (["screen", "{poscar}", "--max-points", "0"], "give a whole number >= 1"),
    (["screen", "{poscar}", "--order-min-distance", "inf"], "give a finite number >= 0"),
    (["screen", "{poscar}", "--species", "li"], "'li' is not an element symbol; did you mean 'Li'?"),
    (["screen", "{poscar}", "--species", "Lithium"], "'Lithium' is not an element symbol"),
    (["analyze", "{poscar}", "--mobile", "Li,na"], "'na' is not an element symbol; did you mean 'Na'?"),
    (["bench", "{model}", "--threads", "0"], "give a whole number >= 1"),
    (["bench", "{model}", "--steps", "-3"], "give a whole number >= 1"),
])
def test_bad_numbers_of_screen_and_bench_are_usage_errors(argv, message, files, tmp_path, capsys):
    write(tmp_path / "POSCAR", bulk("LiCl", "rocksalt", a=5.14), format="vasp")
    argv = [a.format(poscar=tmp_path / "POSCAR", model=files / "morse.pt") for a in argv]
    if argv[0] == "screen":
        argv += ["--model", str(files / "morse.pt")]
    with pytest.raises(SystemExit) as exc:
        main(argv + ["-o", str(tmp_path / "out")])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_isotopes_keep_their_mass_in_the_data_file(tmp_path):
    """Deuterium (a D site in a CIF) is written with pymatgen's mass for D, not hydrogen's
    (ASE's Atoms from pymatgen carry the element's mass), other elements with ASE's masses
    as before; one element in two isotopes is refused, since a LAMMPS type here is one
    element."""
    from pymatgen.core import Element

    from ionmd.errors import IonmdError
    from ionmd.lammps.data_file import write_data
    from ionmd.protocols.prepare import as_atoms
    from ionmd.structures import read_structure

    rows = [("Li1", "Li", 0, 0, 0, 1), ("O1", "O", 0.5, 0.5, 0.3, 1), ("D1", "D", 0.5, 0.5, 0.52, 1)]
    (tmp_path / "LiOD.cif").write_text(p1_cif("LiOD", 4.0, rows))
    write_data(as_atoms(read_structure(tmp_path / "LiOD.cif")), tmp_path / "s.data", ["Li", "H", "O"])
    text = (tmp_path / "s.data").read_text()
    masses = text.split("Masses")[1].split("Atoms")[0].split()
    assert float(masses[masses.index("2") + 1]) == pytest.approx(float(Element("D").atomic_mass), rel=1e-9)
    from ase.data import atomic_masses, atomic_numbers      # other elements: ASE's masses

    assert float(masses[masses.index("1") + 1]) == pytest.approx(atomic_masses[atomic_numbers["Li"]],
                                                                rel=1e-9)
    from pymatgen.core import Lattice, Structure

    both = Structure(Lattice.cubic(4.0), [Element("H"), Element("D")], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(IonmdError, match="H atoms of different masses"):
        as_atoms(both)


def test_run_builds_compact_cells_and_orders_shipped_lgps_by_default(tmp_path, capsys):
    """`ionmd run conductivity` (8 A): a primitive rock-salt POSCAR runs in the fewest
    cells that reach 8 A (20 primitive cells, 40 atoms; repeating it needed 3x3x3, 54
    atoms), built once and not repeated again by the protocol; the
    shipped LGPS orders without --order-min-distance (its 1.73 A Li1 pairs that the
    occupancies force are named) into a 15-cell compact supercell (22.3-27.6 A)."""
    from ase.io import read

    save_contract_model(MorseEdgeModel(**MORSE), tmp_path / "morse.pt", cutoff=MORSE["rc"],
                        elements=["Li", "Cl", "Ge", "P", "S"])
    write(tmp_path / "LiCl_prim.vasp", bulk("LiCl", "rocksalt", a=5.13), format="vasp")
    code, text = _run(["run", "conductivity", tmp_path / "LiCl_prim.vasp", "--model",
                       tmp_path / "morse.pt", "--dry-run", "-o", tmp_path / "runs"], capsys)
    assert code == 0, text
    assert "20 cells (repeating it: 3x3x3, 27 cells)" in text and "40 atoms" in text
    data = sorted((tmp_path / "runs").rglob("struct.data"))
    assert data and all(len(read(d, format="lammps-data", atom_style="atomic")) == 40
                        for d in data)
    code, text = _run(["run", "conductivity", "Li10GeP2S12", "--model", tmp_path / "morse.pt",
                       "--dry-run", "-o", tmp_path / "lgps", "--order", "random",
                       "--order-seed", "1"], capsys)
    assert code == 0, text
    assert "46 Li-Li pairs 1.73 A apart" in text and "(15 cells)" in text


@pytest.mark.parametrize("symbol", ["R -3 m :H", "R -3 m H", "R-3m:H"])
def test_named_hexagonal_setting_reads_as_with_its_operators(tmp_path, symbol):
    """'R -3 m :H' (ITA) and 'R -3 m H' (ICSD) without operators were refused as a symbol
    pymatgen cannot interpret (it would read the asymmetric unit, LiCoO2 with 3 atoms); they
    read as the same file with R-3m's hexagonal operators (pymatgen's own table) written in:
    Li3Co3O6."""
    import warnings

    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.cif import CifParser
    from pymatgen.symmetry.groups import SpaceGroup

    from ionmd.structures import read_structure

    text = RH_WITHOUT_OPERATORS.replace("'R -3 w :H'", repr(symbol))
    operators = "".join(f"'{op.as_xyz_str()}'\n" for op in SpaceGroup("R-3m:H").symmetry_ops)
    explicit = text.replace("loop_\n", "loop_\n_space_group_symop_operation_xyz\n"
                            + operators + "loop_\n", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = CifParser.from_str(explicit).parse_structures(primitive=False)[0]
    assert reference.composition.formula == "Li3 Co3 O6"
    (tmp_path / "rh.cif").write_text(text)
    structure = read_structure(tmp_path / "rh.cif")
    assert structure.composition == reference.composition
    assert structure.density == pytest.approx(reference.density, rel=1e-6)
    assert StructureMatcher().fit(structure, reference)
