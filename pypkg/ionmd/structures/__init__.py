"""Crystal structures for MD: read (CIF, POSCAR, pymatgen, ASE, shipped examples),
build supercells (explicit or by minimum perpendicular width) and turn partially
occupied sites into ordered cells (Ewald ranking or seeded random sampling).

Modules: ``io`` (``read_structure(s)``), ``cif_checks`` (what pymatgen's CIF reader would
leave out or misplace), ``cif_numbers`` (coordinates written as fractions),
``cif_charges`` (oxidation states given as type symbols such as ``Ni3+``),
``cif_site_symbols`` (isotopes, vacancy rows and letter-numbered labels pymatgen would drop
or misread), ``cif_blocks`` (a CIF of several data blocks, read block by block),
``cif_settings`` (space-group settings of files without operators: origin choice,
rhombohedral axes), ``load`` (``load_structures``: read, order, check; what every command
uses), ``checks`` (partial sites, overlapping atoms), ``examples`` (shipped CIF files),
``supercell`` (repetitions), ``geometry`` (perpendicular widths), ``charges`` (oxidation
state guess), ``ordering`` (ordered cells: ``order_structure``), ``ordering_cells`` (site
groups, whole-count supercells), ``ordering_limits`` (the ``min_distance`` rule, its ionic
floor and refusals), ``ordering_proofs`` (the counts proving no arrangement keeps it),
``ionic_radii`` (ionic radii and bond-valence floors), ``ordering_search`` (seeded
min-conflicts search and the ``min_distance`` advice by bisection), ``ordering_ewald``
(lowest-Ewald-energy arrangements).
pymatgen is imported on first use so ``ionmd``'s command line stays quick to start.
"""

from ionmd._lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "read_structure": "io", "read_structures": "io", "read_blocks": "io",
    "unique_names": "io", "load_structure": "load", "load_structures": "load",
    "LoadFailure": "load", "OrderOptions": "load",
    "LoadedStructure": "load", "check_overlaps": "checks", "check_ordered": "checks",
    "example_names": "examples", "example_path": "examples",
    "parse_supercell": "supercell", "perpendicular_widths": "geometry",
    "supercell_repeats": "supercell", "guess_oxidation_states": "charges",
    "transport_charges": "charges",
    "min_width_supercell": "supercell", "make_supercell": "supercell",
    "order_structure": "ordering", "integral_supercell": "ordering",
    "OrderedCell": "ordering", "StructureError": "errors",
})
