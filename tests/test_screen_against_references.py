"""Audit of ``ionmd screen`` against references written independently of the package.

* MPE (eq. 2 of Maevskiy et al.): a bottleneck (minimax) Dijkstra on the unwrapped
  periodic grid from the minimum to the first point one period away along any axis
  (the supercell faces), with its own heap, no spanning tree and no supercell array;
  and, on channel landscapes, a union-find that finds the lowest level at which the
  minimum's cluster wraps around the periodic cell (true percolation).
* The energy grid: a direct Morse pair sum over ASE's neighbour list for every scanned
  point (Na and Mg as mobile ions, cells narrower than the cutoff, symmetry on and off).
* CUBE output: ASE's cube reader (cell, origin, values at the grid points).
* Resume: a batch interrupted mid-file, run again, holds each structure once.
"""

from __future__ import annotations

import heapq
import itertools
import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write
from ase.neighborlist import neighbor_list
from ionmd.screen.descriptors import ion_landscape
from scipy import ndimage

HEXAGONAL = np.array([[4.0, 0, 0], [-2.0, 2.0 * np.sqrt(3), 0], [0, 0, 4.2]])
TRICLINIC = np.array([[4.0, 0, 0], [1.3, 3.8, 0], [-0.9, 0.7, 4.1]])
CELLS = {"orthorhombic": np.diag([3.0, 3.5, 4.0]), "hexagonal": HEXAGONAL,
         "triclinic": TRICLINIC}


def steps_within_diagonal(cell, shape):
    """All 26 grid steps (both signs) no longer than sqrt(|g1|^2+|g2|^2+|g3|^2), written
    from the rule (docs/screen.md), not from the package."""
    g = np.asarray(cell) / np.asarray(shape)[:, None]
    limit = np.sqrt((g ** 2).sum()) * (1 + 1e-9)
    return [d for d in itertools.product((-1, 0, 1), repeat=3)
            if any(d) and np.linalg.norm(np.array(d) @ g) <= limit]


def faces_bottleneck(e, start, steps):
    """Lowest max-energy over paths from ``start`` to a point one period away along an
    axis, on the infinite periodic grid (Dijkstra with max instead of +)."""
    n, start = np.array(e.shape), np.array(start)
    best = {tuple(start): e[tuple(start)]}
    heap, done = [(e[tuple(start)], tuple(start))], set()
    while heap:
        level, p = heapq.heappop(heap)
        if p in done:
            continue
        done.add(p)
        if (np.abs(np.array(p) - start) >= n).any():
            return level
        for d in steps:
            q = tuple(int(a + b) for a, b in zip(p, d))
            eq = e[tuple(np.mod(q, n))]
            if np.isfinite(eq) and max(level, eq) < best.get(q, np.inf):
                best[q] = max(level, eq)
                heapq.heappush(heap, (best[q], q))
    return np.inf


def wrapping_level(e, start, steps):
    """Lowest level at which the cluster of ``start`` in {E <= level} on the periodic grid
    wraps around (holds a point and one of its periodic images): union-find that keeps
    each point's image offset relative to its root."""
    n, flat = np.array(e.shape), e.ravel()
    parent, cell, wrapped = {}, {}, set()

    def find(x):
        if parent[x] == x:
            return x, np.zeros(3, int)
        root, c = find(parent[x])
        cell[x], parent[x] = cell[x] + c, root
        return root, cell[x]

    sid = int(np.ravel_multi_index(tuple(start), e.shape))
    for idx in map(int, np.argsort(flat, kind="stable")):
        if not np.isfinite(flat[idx]):
            break
        parent[idx], cell[idx] = idx, np.zeros(3, int)
        i = np.array(np.unravel_index(idx, e.shape))
        for d in steps:
            j = i + np.array(d)
            w = np.floor_divide(j, n)              # the neighbour is j's image in cell w
            jid = int(np.ravel_multi_index(tuple(np.mod(j, n)), e.shape))
            if jid not in parent:
                continue
            ri, ci = find(idx)
            rj, cj = find(jid)
            if ri == rj:
                if not np.array_equal(cj, ci + w):
                    wrapped.add(ri)
            else:
                parent[rj], cell[rj] = ri, ci + w - cj
                if rj in wrapped:
                    wrapped.add(ri)
        if sid in parent and find(sid)[0] in wrapped:
            return float(flat[idx])
    return np.inf


@pytest.mark.parametrize("cell_name", sorted(CELLS))
@pytest.mark.parametrize("seed", range(4))
def test_mpe_equals_independent_bottleneck_search(cell_name, seed):
    """Smooth random periodic landscapes with excluded walls, minimum anywhere (also next
    to the cell boundary), three cell shapes."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(x) for x in rng.integers(5, 10, 3))
    e = ndimage.gaussian_filter(rng.normal(size=shape), 1.0, mode="wrap")
    e[rng.random(shape) < 0.12] = np.inf
    cell = CELLS[cell_name]
    land = ion_landscape(e + 3.0, cell)
    steps = steps_within_diagonal(cell, shape)
    assert land.mpe == faces_bottleneck(land.pes, land.imin, steps)
    assert land.mpe == wrapping_level(land.pes, land.imin, steps)


def channel(shape, open_axes, barrier, start):
    """A well at ``start`` in a wall (E = 5) with open lines along ``open_axes`` through it;
    along each open line the energy rises to ``barrier`` half a period away."""
    e = np.full(shape, 5.0)
    idx = np.indices(shape)
    for ax in open_axes:
        line = np.all([idx[k] == start[k] for k in range(3) if k != ax], axis=0)
        phase = 2 * np.pi * (idx[ax] - start[ax]) / shape[ax]
        e[line] = np.minimum(e[line], (barrier[ax] * (1 - np.cos(phase)) / 2)[line])
    return e


@pytest.mark.parametrize("open_axes", [(0,), (1,), (2,), (0, 1), (1, 2), (0, 2), (0, 1, 2)])
@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_channels_percolate_through_the_periodic_boundary(open_axes, cell_name):
    """1D, 2D and 3D channel networks along each axis, the well one point from the cell
    boundary so that every path crosses it: MPE = the lowest open barrier = the level at
    which the cluster wraps."""
    shape, start, barrier = (8, 9, 10), (7, 0, 1), (0.7, 0.45, 0.9)
    e = channel(shape, open_axes, barrier, start)
    cell = CELLS[cell_name]
    land = ion_landscape(e, cell)
    steps = steps_within_diagonal(cell, shape)
    expected = min(barrier[ax] * (1 - np.cos(2 * np.pi * (shape[ax] // 2) / shape[ax])) / 2
                   for ax in open_axes)
    assert land.imin == start
    assert land.mpe == pytest.approx(expected, abs=1e-12)
    assert land.mpe == wrapping_level(land.pes, land.imin, steps)


def test_diagonal_channel_of_a_hexagonal_cell():
    """A channel along a + b in a hexagonal cell (120 deg: a + b is as short as a): its
    grid steps (1, 1, 0) are neighbours, so it percolates at its barrier; along a - b
    (sqrt(3) longer steps, dropped with the body diagonals only when longer than the
    grid's diagonal) it percolates too."""
    shape = (12, 12, 8)
    for direction, expected in (((1, 1, 0), 0.3), ((1, -1, 0), 0.3)):
        e = np.full(shape, 5.0)
        for k in range(12):
            phase = 2 * np.pi * k / 12
            e[(2 + direction[0] * k) % 12, (3 + direction[1] * k) % 12, 4] = \
                expected * (1 - np.cos(phase)) / 2
        land = ion_landscape(e, HEXAGONAL)
        steps = steps_within_diagonal(HEXAGONAL, shape)
        assert direction in steps
        assert land.mpe == pytest.approx(expected, abs=1e-12)
        assert land.mpe == wrapping_level(land.pes, land.imin, steps)


def test_a_long_bounded_basin_reaches_the_faces_without_percolating():
    """Eq. (2) takes MPE as the lowest LM on the 2x2x2 supercell's faces, i.e. one period
    away along an axis: a bounded basin tilted across more than one period reaches a face
    without joining its own images. The screen follows eq. (2) (docs/screen.md)."""
    shape = (12, 12, 4)
    e = np.full(shape, 1.0)
    for t in np.linspace(0, 1.4, 400):                  # 1.4 periods along a, 0.35 along b
        e[int(1 + 9.6 * t) % 12, int(1 + 3 * t) % 12, 0] = 0.1
    e[1, 1, 0] = 0.0
    cell = np.diag([3.0, 3.0, 3.0])
    land = ion_landscape(e, cell)
    steps = steps_within_diagonal(cell, shape)
    assert land.mpe == faces_bottleneck(land.pes, land.imin, steps) == pytest.approx(0.1)
    assert wrapping_level(land.pes, land.imin, steps) == pytest.approx(1.0)


# --- the energy grid against a direct pair sum ------------------------------------------

ELEMENTS = ["Li", "Na", "Mg", "F", "Cl"]
RC, ALPHA, WALL_A, WALL_RHO = 4.5, 1.3, 300.0, 0.3
# weak cation-cation, strong cation-anion Morse wells, at r0 = 3 A
D0 = np.array([[0.05, 0.05, 0.05, 0.6, 0.5], [0.05, 0.05, 0.05, 0.5, 0.5],
               [0.05, 0.05, 0.05, 0.9, 0.8], [0.6, 0.5, 0.9, 0.02, 0.02],
               [0.5, 0.5, 0.8, 0.02, 0.02]])
R0 = np.full((5, 5), 3.0)


@pytest.fixture(scope="module")
def morse_model(tmp_path_factory):
    from contract_models import PairMorseEdgeModel, save_contract_model

    model = PairMorseEdgeModel(D0.tolist(), R0.tolist(), alpha=ALPHA, rc=RC, wall_A=WALL_A,
                               wall_rho=WALL_RHO)
    return save_contract_model(model, tmp_path_factory.mktemp("m") / "morse.pt", cutoff=RC,
                               elements=ELEMENTS)


def direct_energy(atoms):
    """The Morse model's energy summed over ASE's neighbour list (all periodic images)."""
    i, j, d = neighbor_list("ijd", atoms, RC)
    sp = np.array([ELEMENTS.index(s) for s in atoms.get_chemical_symbols()])
    d0, r0 = D0[sp[i], sp[j]], R0[sp[i], sp[j]]
    x, xc = np.exp(-ALPHA * (d - r0)), np.exp(-ALPHA * (RC - r0))
    pair = d0 * ((x * x - 2 * x) - (xc * xc - 2 * xc))
    wall = WALL_A * (np.exp(-d / WALL_RHO) - np.exp(-RC / WALL_RHO))
    return float(0.5 * (pair + wall).sum())


def rutile_mgf2(a=4.62, c=3.05, u=0.303):
    """P4_2/mnm: two Mg related by a screw axis (a non-symmorphic operation)."""
    return Atoms("Mg2F4", cell=[a, a, c], pbc=True,
                 scaled_positions=[[0, 0, 0], [.5, .5, .5], [u, u, 0], [1 - u, 1 - u, 0],
                                   [.5 + u, .5 - u, .5], [.5 - u, .5 + u, .5]])


@pytest.mark.parametrize("build,species", [(lambda: bulk("NaCl", "rocksalt", a=5.64), "Na"),
                                           (rutile_mgf2, "Mg")])
@pytest.mark.parametrize("symmetry", [True, False])
def test_energy_grid_equals_direct_pair_sums(morse_model, build, species, symmetry):
    """Every scanned point of every mobile ion, relative to the ion's minimum, equals the
    direct sum for the structure with that ion moved there; the cells (3.3 and 3.05 A
    between image planes) are narrower than the 4.5 A cutoff."""
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.grid import cartesian_points
    from ionmd.screen.screen import ScreenSettings, screen_structure

    res = screen_structure(build(), ModelRunner(morse_model),
                           ScreenSettings(species=species, spacing=0.45, max_nodes=4096,
                                          symmetry=symmetry))
    points = cartesian_points(res.atoms.cell.array, res.grid)
    for m, land in zip(res.mobile_indices, res.landscapes):
        pes = land.pes.ravel()
        scanned = np.nonzero(np.isfinite(pes))[0]
        ref = []
        for p in scanned:
            moved = res.atoms.copy()
            moved.positions[m] = points[p]
            ref.append(direct_energy(moved))
        np.testing.assert_allclose(pes[scanned], np.array(ref) - min(ref), rtol=0, atol=1e-9)
        assert np.ptp(ref) > 1.0
    assert len(res.mobile_indices) == (2 if species == "Mg" else 1)
    assert "note" in res.extra                    # narrow cell: the row says so


# --- output files ------------------------------------------------------------------------

def test_cube_files_read_back_with_ase(morse_model, tmp_path):
    """ASE's cube reader gives the screened cell (PES) and its 2x2x2 supercell (LM), origin
    0, voxel vectors = lattice vector / points, and the values at the grid points."""
    from ase.io.cube import read_cube
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.output import write_cubes
    from ionmd.screen.screen import ScreenSettings, screen_structure

    res = screen_structure(rutile_mgf2(), ModelRunner(morse_model),
                           ScreenSettings(species="Mg", spacing=0.45, max_nodes=4096))
    pes_file, lm_file = write_cubes(tmp_path, "MgF2", res)
    expected = {pes_file: (res.atoms, np.min([x.pes for x in res.landscapes], axis=0)),
                lm_file: (res.atoms * (2, 2, 2),
                          np.min([x.lm_on_torus() for x in res.landscapes], axis=0))}
    for path, (atoms, data) in expected.items():
        with open(path) as fh:
            cube = read_cube(fh)
        np.testing.assert_allclose(cube["atoms"].cell.array, atoms.cell.array, atol=1e-5)
        np.testing.assert_allclose(cube["atoms"].positions, atoms.positions, atol=1e-5)
        np.testing.assert_allclose(cube["origin"], 0.0)
        np.testing.assert_allclose(cube["spacing"],
                                   atoms.cell.array / np.array(data.shape)[:, None], atol=1e-5)
        finite = np.isfinite(data)
        np.testing.assert_allclose(cube["data"][finite], data[finite], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(cube["data"][~finite], data[finite].max(), rtol=1e-6)
        assert "eV" in path.read_text().splitlines()[0]     # what the numbers are


def test_interrupted_batch_resumes_without_losing_or_repeating_rows(morse_model, tmp_path,
                                                                     monkeypatch):
    """Ctrl-C during the second structure of a two-structure file: the first is kept; the
    rerun screens the second only; every structure has one row."""
    import ionmd.screen.screen as scr
    from ionmd.cli import main

    frames = [bulk("NaCl", "rocksalt", a=5.64), bulk("NaCl", "rocksalt", a=5.9)]
    write(tmp_path / "two.extxyz", frames)
    write(tmp_path / "NaF.cif", bulk("NaF", "rocksalt", a=4.63))
    args = ["screen", str(tmp_path / "two.extxyz"), str(tmp_path / "NaF.cif"), "--model",
            str(morse_model), "--species", "Na", "--spacing", "0.6", "-o", str(tmp_path / "o")]
    real, calls = scr.screen_structure, []

    def interrupted(atoms, *a, **kw):
        calls.append(atoms.get_volume())
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(atoms, *a, **kw)

    monkeypatch.setattr(scr, "screen_structure", interrupted)
    assert main(args) == 130                       # 128 + SIGINT, as the CLI reports it
    rows = json.loads((tmp_path / "o" / "screen.json").read_text())
    assert [r["name"] for r in rows] == ["two_0"]
    first = rows[0]

    calls.clear()
    monkeypatch.setattr(scr, "screen_structure", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    assert main(args) == 0
    rows = json.loads((tmp_path / "o" / "screen.json").read_text())
    assert sorted(r["name"] for r in rows) == ["NaF", "two_0", "two_1"]
    assert all(r["status"] == "ok" for r in rows) and len(calls) == 2
    assert rows[0] == first


def test_a_file_readable_on_the_rerun_loses_its_cannot_read_row(morse_model, tmp_path):
    """A file that could not be read (error row under the file's name) and then holds two
    structures: the rerun's rows are those two, not the stale error beside them."""
    from ionmd.cli import main

    (tmp_path / "two.extxyz").write_text("not a structure\n")
    args = ["screen", str(tmp_path / "two.extxyz"), "--model", str(morse_model), "--species",
            "Na", "--spacing", "0.6", "-o", str(tmp_path / "o")]
    assert main(args) == 3
    write(tmp_path / "two.extxyz", [bulk("NaCl", "rocksalt", a=5.64),
                                     bulk("NaCl", "rocksalt", a=5.9)])
    assert main(args) == 0
    rows = json.loads((tmp_path / "o" / "screen.json").read_text())
    assert [(r["name"], r["status"]) for r in rows] == [("two_0", "ok"), ("two_1", "ok")]


def li_cl_p21c():
    """Low symmetry: P2_1/c, Li on two inequivalent inversion centres (2a, 2d), Cl on 4e;
    only the 2_1 screw (and identity) is a proper operation, and it maps the grid (which
    starts at the first Li, at 2a) onto itself where N2 and N3 are even."""
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    s = Structure.from_spacegroup("P2_1/c", Lattice.monoclinic(5.2, 6.0, 6.6, 103),
                                  ["Li", "Li", "Cl"], [[0, 0, 0], [0.5, 0, 0.5],
                                                       [0.27, 0.62, 0.18]])
    return AseAtomsAdaptor.get_atoms(s)


def test_symmetry_reduction_of_a_low_symmetry_cell(morse_model):
    """The screw-axis reduction (half the evaluations) gives the plain scan's PES, for
    two inequivalent Li sites (different MPEs)."""
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import ScreenSettings, screen_structure

    runner = ModelRunner(morse_model)
    kw = dict(spacing=0.5, cell="as-given", max_nodes=4096)
    plain = screen_structure(li_cl_p21c(), runner, ScreenSettings(symmetry=False, **kw))
    reduced = screen_structure(li_cl_p21c(), runner, ScreenSettings(symmetry=True, **kw))
    assert plain.grid == (11, 12, 14) and 2 * reduced.n_evaluated == plain.n_evaluated
    for a, b in zip(plain.landscapes, reduced.landscapes):
        np.testing.assert_allclose(b.pes, a.pes, rtol=0, atol=1e-9)
    assert reduced.descriptors.fv_connected == plain.descriptors.fv_connected
    assert reduced.descriptors.mpe == pytest.approx(plain.descriptors.mpe, abs=1e-9)
    assert reduced.descriptors.per_ion_mpe == pytest.approx(plain.descriptors.per_ion_mpe)
    assert len({round(x, 6) for x in plain.descriptors.per_ion_mpe}) == 2


def li3f_toy():
    """alpha-Li3N's geometry with F for N (the Morse model's anion): two inequivalent Li
    sites, one of them twice."""
    return Atoms("FLiLiLi", scaled_positions=[[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0],
                                              [2 / 3, 1 / 3, 0]],
                 cell=[[3.65, 0, 0], [-3.65 / 2, 3.65 * np.sqrt(3) / 2, 0], [0, 0, 3.87]],
                 pbc=True)


def test_aggregation_over_inequivalent_ions_equals_level_set_components(morse_model):
    """Sec. II A: MPE = min over ions; FV = volume of the OR of the ions' indicators.
    Reference for FV_LM(t): for each ion, the component of {E < t} holding its minimum in
    its centred (2N+1)^3 box (scipy.ndimage.label with the grid's neighbour steps), put on
    the periodic 2x2x2 supercell in absolute grid coordinates and OR-ed."""
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import ScreenSettings, screen_structure

    thresholds = (0.3, 0.5, 1.0, 2.0, 4.0)
    res = screen_structure(li3f_toy(), ModelRunner(morse_model),
                           ScreenSettings(spacing=0.35, cell="as-given", thresholds=thresholds,
                                          max_nodes=4096))
    n = np.array(res.grid)
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1, 1, 1] = True
    for d in steps_within_diagonal(res.atoms.cell.array, res.grid):
        structure[tuple(np.array(d) + 1)] = True
    pes = [land.pes for land in res.landscapes]
    per_ion = [faces_bottleneck(p, np.unravel_index(np.argmin(p), p.shape),
                                steps_within_diagonal(res.atoms.cell.array, res.grid))
               for p in pes]
    assert len(set(np.round(per_ion, 9))) > 1             # the sites differ
    assert res.descriptors.mpe == pytest.approx(min(per_ion), abs=1e-12)
    for t in thresholds:
        union = np.zeros(tuple(2 * n), dtype=bool)
        for p in pes:
            o = np.array(np.unravel_index(np.argmin(p), p.shape))
            box_idx = [o[k] + np.arange(-n[k], n[k] + 1) for k in range(3)]
            box = p[np.ix_(*[b % n[k] for k, b in enumerate(box_idx)])]
            labels, _ = ndimage.label(box < t, structure=structure)
            reach = labels == labels[tuple(n)]
            where = np.nonzero(reach)
            union[tuple(box_idx[k][where[k]] % (2 * n[k]) for k in range(3))] = True
        assert res.descriptors.fv_connected[t] == pytest.approx(union.mean(), abs=1e-15)
        disconnected = np.any([p < t for p in pes], axis=0).mean()
        assert res.descriptors.fv_disconnected[t] == pytest.approx(disconnected, abs=1e-15)
    assert 0 < res.descriptors.fv_connected[4.0] < res.descriptors.fv_disconnected[4.0]


def test_level_map_png_is_centred_on_the_minimum(morse_model, tmp_path, monkeypatch):
    """Na at the cell origin (rock salt): each slice holds the minimum (LM 0) in its middle
    and the level map's values around it, not split over the slice's corners."""
    import matplotlib.axes
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.output import write_lm_png
    from ionmd.screen.screen import ScreenSettings, screen_structure

    res = screen_structure(bulk("NaCl", "rocksalt", a=5.64), ModelRunner(morse_model),
                           ScreenSettings(species="Na", spacing=0.45, max_nodes=4096))
    assert res.landscapes[0].imin == (0, 0, 0)
    shown, real = [], matplotlib.axes.Axes.pcolormesh

    def spy(ax, x, y, data, **kw):
        if ax.get_label() != "<colorbar>":          # the slices, not the colour bar
            shown.append(np.asarray(data))
        return real(ax, x, y, data, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "pcolormesh", spy)
    assert write_lm_png(tmp_path, "NaCl", res).is_file()
    assert len(shown) == 3
    lm = res.landscapes[0].lm_on_torus()
    n = np.array(lm.shape) // 2
    for axis, cut in enumerate(shown):
        others = [i for i in range(3) if i != axis]
        assert cut[n[others[0]], n[others[1]]] == 0.0
        # the slice is the level map rolled by n: a step +1 from the middle is LM at index 1
        step = [0, 0, 0]
        step[others[0]] = 1
        assert cut[n[others[0]] + 1, n[others[1]]] == pytest.approx(min(lm[tuple(step)], 1.0))


def test_energy_grid_equals_sevennet_single_points(tiny_f64, tiny_checkpoint):
    """The screen's unfolded PES (symmetry on) of a 2-atom LiCl cell, narrower than the
    tiny model's 4 A cutoff, equals SevenNet's own float64 ASE calculator, one single-point
    energy per scanned grid point with the Li moved there."""
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.grid import cartesian_points
    from ionmd.screen.screen import ScreenSettings, screen_structure
    from sevennet_reference import reference_calculator

    res = screen_structure(bulk("LiCl", "rocksalt", a=5.14), ModelRunner(tiny_f64),
                           ScreenSettings(spacing=0.7, rmin=1.0))
    assert res.n_evaluated < res.extra["n_scanned"]          # the symmetry shortcut is used
    calc = reference_calculator(str(tiny_checkpoint), "float64")
    points = cartesian_points(res.atoms.cell.array, res.grid)
    (m,), pes = res.mobile_indices, res.landscapes[0].pes.ravel()
    scanned = np.nonzero(np.isfinite(pes))[0]
    # the minimum (the PES is relative to it) and 24 other points: the calculator is slow
    pick = np.concatenate([[np.argmin(np.where(np.isfinite(pes), pes, np.inf))],
                           np.random.default_rng(0).choice(scanned, 24, replace=False)])
    ref = []
    for p in pick:
        moved = res.atoms.copy()
        moved.positions[m] = points[p]
        moved.calc = calc
        ref.append(moved.get_potential_energy())
    np.testing.assert_allclose(pes[pick], np.array(ref) - ref[0], rtol=0, atol=1e-6)
    assert np.ptp(ref) > 0.01


def test_top_must_not_be_negative(morse_model, tmp_path, capsys):
    """--top -1 wrote every structure but the last to campaign.yaml; now a usage error.
    With no structure screened, no (empty) campaign is written."""
    from ionmd.cli import main

    write(tmp_path / "NaCl.cif", bulk("NaCl", "rocksalt", a=5.64))
    base = ["screen", "--model", str(morse_model), "--species", "Na", "--spacing", "0.6"]
    with pytest.raises(SystemExit) as exc:
        main([*base, str(tmp_path / "NaCl.cif"), "--top", "-1", "-o", str(tmp_path / "a")])
    assert exc.value.code == 2 and "whole number >= 0" in capsys.readouterr().err
    (tmp_path / "broken.cif").write_text("not a structure\n")
    assert main([*base, str(tmp_path / "broken.cif"), "--top", "3", "-o",
                 str(tmp_path / "b")]) == 3
    assert not (tmp_path / "b" / "campaign.yaml").exists()


def test_a_model_returning_nan_is_an_error_not_a_wall(tmp_path):
    """A model that fails (NaN) within 1.6 A of an atom: 206 of the 565 scanned LiCl points
    were taken as walls without a word, and the row got MPE and Xi. Now an error that
    says how close to the framework the failures are (reference: the model's own rule)."""
    from contract_models import NonFiniteModel, save_contract_model
    from ionmd.errors import IonmdError
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import ScreenSettings, screen_structure

    model = save_contract_model(NonFiniteModel(1.6), tmp_path / "nan.pt", cutoff=4.0,
                                elements=["Li", "Cl"])
    licl = bulk("LiCl", "rocksalt", a=5.14)
    with pytest.raises(IonmdError, match=r"non-finite energy .* 1\.[2-5]\d-1\.[2-5]\d A from "
                                         r"the framework \(--rmin 1\.2\): raise --rmin"):
        screen_structure(licl, ModelRunner(model), ScreenSettings(spacing=0.45))
    ok = screen_structure(licl, ModelRunner(model), ScreenSettings(spacing=0.45, rmin=1.6))
    assert np.isfinite(ok.descriptors.mpe)


@pytest.mark.slow          # SevenNet-0 on the seed's 0.25 A grid: ~20 s on 2 CPU cores
def test_li2te_scores_as_in_the_papers_figure_2(sevennet0_f32):
    """Fig. 2(b) of the paper: Li2Te (mp-2530, anti-fluorite, its primitive cell) has
    Xi = 0.97 with M3GNet, above the 0.25 of its candidate list. SevenNet-0 with the
    default protocol (standard primitive cell, 0.25 A grid) puts it there too (0.94)."""
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import screen_structure

    res = screen_structure(bulk("TeLi2", "fluorite", a=6.517), ModelRunner(sevennet0_f32))
    assert res.grid == (19, 19, 19) and len(res.atoms) == 3
    assert res.descriptors.xi > 0.8
    assert res.descriptors.fv_connected[0.5] > 10 ** -2.0       # both sigmoids of eq. (4)
    assert res.descriptors.fv_disconnected[0.5] > 10 ** -1.15   # are past their midpoints


@pytest.mark.parametrize("cell", ["primitive", "conventional", "as-given"])
def test_one_crystal_one_answer_whatever_the_origin(morse_model, cell):
    """Rock-salt LiCl with Li at the origin, Cl at the origin, and an arbitrary origin: the
    standard primitive cell put Li at 0 or 1/2, off a 9-point grid, and the same crystal
    scored MPE 7.59 or 6.23 eV (FV_E(0.5) 0.0014 or 0.0082). The grid now starts at a
    mobile ion. Reference: the structure with Li at the origin."""
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import ScreenSettings, screen_structure

    runner, settings = ModelRunner(morse_model), ScreenSettings(spacing=0.45, cell=cell)
    base = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    results = []
    for shift in ([0, 0, 0], [0.5, 0.5, 0.5], [0.123, 0.31, 0.77]):
        atoms = base.copy()
        atoms.translate(np.array(shift) @ atoms.cell.array)
        atoms.wrap()
        results.append(screen_structure(atoms, runner, settings).descriptors)
    for d in results[1:]:
        assert d.mpe == pytest.approx(results[0].mpe, abs=1e-9)
        assert d.fv_connected == pytest.approx(results[0].fv_connected, abs=1e-12)
        assert d.fv_disconnected == pytest.approx(results[0].fv_disconnected, abs=1e-12)


def test_equivalent_minima_are_chosen_by_the_ion_site_not_by_rounding():
    """Two wells of equal depth (one 1e-12 eV deeper by rounding, as a plain scan gives
    where the symmetry shortcut gives exact ties): the level map starts from the one
    nearest the ion's own site either way, so the OR of ions' level maps (FV_LM) does not
    depend on rounding. Reference: the site's position."""
    shape = (12, 12, 12)
    idx = np.indices(shape)
    e = np.full(shape, 2.0)
    for centre in ((3, 3, 3), (9, 9, 9)):
        r2 = sum((idx[k] - centre[k]) ** 2 for k in range(3))
        e = np.minimum(e, 0.05 * r2)
    cell = np.eye(3) * 6.0
    for noise_at in ((3, 3, 3), (9, 9, 9)):
        noisy = e.copy()
        noisy[noise_at] -= 1e-12
        assert ion_landscape(noisy, cell, site=(0.70, 0.72, 0.75)).imin == (9, 9, 9)
        assert ion_landscape(noisy, cell, site=(0.30, 0.2, 0.25)).imin == (3, 3, 3)


@pytest.mark.parametrize("cell", ["primitive", "as-given"])
def test_one_answer_whatever_the_atom_order(morse_model, cell):
    """Two inequivalent Li sites: the grid started at whichever Li came first, and one
    crystal scored MPE 0.191 or 0.209 eV by atom order. Reference: the first order."""
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import ScreenSettings, screen_structure

    runner = ModelRunner(morse_model)
    settings = ScreenSettings(spacing=0.35, cell=cell, max_nodes=4096)
    atoms = li3f_toy()
    results = [screen_structure(atoms[order], runner, settings).descriptors
               for order in ([0, 1, 2, 3], [0, 2, 3, 1], [2, 3, 1, 0])]
    for d in results[1:]:
        assert d.mpe == pytest.approx(results[0].mpe, abs=1e-9)
        assert d.fv_connected == pytest.approx(results[0].fv_connected, abs=1e-12)
        assert d.fv_disconnected == pytest.approx(results[0].fv_disconnected, abs=1e-12)
