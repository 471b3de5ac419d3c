"""Inputs as users have them: data files of other atom styles, header comments or no
Masses; dumps with scaled coordinates in a moving box, without atom IDs, appended after a
restart, with TIME/UNITS items or gzipped. References: the true path of a synthetic
walk, or the same run read another way (a plain ``x y z`` dump, separate pieces)."""

import gzip
import json

import numpy as np
import pytest
from ase.data import atomic_masses, atomic_numbers

import synthetic_trajectories as st
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from ionmd.errors import IonmdError

TYPES = {"Cl": 1, "Li": 2}
#: Atoms columns of each atom style, as LAMMPS writes them
STYLE_COLUMNS = {"atomic": "id type x y z", "charge": "id type q x y z",
                 "full": "id mol type q x y z", "molecular": "id mol type x y z"}
CENTRE = 3.0  # box centre, kept by LAMMPS's barostats: lo = CENTRE - L/2 is not 0


def _walk(n_frames=400, breathing=0.06, seed=0):
    rng = np.random.default_rng(seed)
    return st.make(st.brownian_steps(n_frames, 6, [2.0] * 3, 0.05, rng), L=10.0,
                   n_framework=8, dt_ps=0.05, breathing=breathing, rng=rng)


def _los(syn):
    return CENTRE - 0.5 * syn.true.boxes[:, 0, 0]


def _write_data(path, syn, *, style="atomic", masses=True, comments=False):
    """A data file of the walk's first frame; the molecule ID (mol) is the other atom's
    type, so reading it as the type swaps the elements."""
    elements, lo, edge = syn.true.elements, _los(syn)[0], syn.true.boxes[0, 0, 0]
    note = " # a comment" if comments else ""
    lines = ["test data file", "", f"{len(elements)} atoms{note}", f"2 atom types{note}", "",
             *(f"{lo} {lo + edge} {a}lo {a}hi{note}" for a in "xyz")]
    if masses:
        lines += ["", "Masses", ""] + [f"{t} {atomic_masses[atomic_numbers[e]]}"
                                       for e, t in TYPES.items()]
    lines += ["", f"Atoms # {style}", ""]
    for i, (e, x) in enumerate(zip(elements, syn.wrapped[0] + lo)):
        values = {"id": i + 1, "type": TYPES[e], "mol": 3 - TYPES[e], "q": 1 if e == "Li" else -1,
                  "x": x[0], "y": x[1], "z": x[2]}
        lines.append(" ".join(str(values[c]) for c in STYLE_COLUMNS[style].split()))
    path.write_text("\n".join(lines) + "\n")
    return path


def _dump_text(syn, columns="id type x y z", frames=None, items=""):
    """Dump frames as LAMMPS writes them, box [lo, lo + L) around CENTRE."""
    boxes, los = syn.true.boxes, _los(syn)
    out = []
    for t in range(len(boxes)) if frames is None else frames:
        edge, lo = boxes[t, 0, 0], los[t]
        images = np.rint((syn.lammps_unwrapped[t] - syn.wrapped[t]) / edge).astype(int)
        coords = {"x": syn.wrapped[t] + lo, "xs": syn.wrapped[t] / edge,
                  "xu": syn.lammps_unwrapped[t] + lo, "xsu": syn.lammps_unwrapped[t] / edge,
                  "ix": images}
        n_atoms = len(syn.true.elements)
        out += [items + f"ITEM: TIMESTEP\n{10 * t}\nITEM: NUMBER OF ATOMS\n{n_atoms}",
                "ITEM: BOX BOUNDS pp pp pp", *[f"{lo:.10f} {lo + edge:.10f}"] * 3,
                f"ITEM: ATOMS {columns}"]
        for i, e in enumerate(syn.true.elements):
            values = {"id": str(i + 1), "type": str(TYPES[e])}
            for first in set(columns.split()) & set(coords):   # each set of three columns
                names = {"x": "x y z", "xs": "xs ys zs", "xu": "xu yu zu", "xsu": "xsu ysu zsu",
                         "ix": "ix iy iz"}[first].split()
                fmt = "{:d}" if first == "ix" else "{:.10f}"
                values.update({c: fmt.format(v) for c, v in zip(names, coords[first][i])})
            out.append(" ".join(values[c] for c in columns.split()))
    return "\n".join(out) + "\n"


def _displacements(traj):
    return traj.positions - traj.positions[0]


def _true_displacements(syn):
    """The walk's displacements in LAMMPS's own frame (that of its compute msd, and DCD's),
    where dumps are read into: the walk is made relative to the box origin lo(t) (the
    dump's x is the wrapped position + lo), which moves as the box breathes about CENTRE."""
    los = _los(syn)
    return syn.true.positions - syn.true.positions[0] + (los - los[0])[:, None, None]


# ---------------------------------------------------------------- data files

@pytest.mark.parametrize("style", list(STYLE_COLUMNS))
def test_data_file_columns_follow_its_atoms_style_comment(tmp_path, style):
    syn = _walk(n_frames=20)
    data = _write_data(tmp_path / "s.data", syn, style=style)
    (tmp_path / "md.dump").write_text(_dump_text(syn))
    _, elements, masses = read_frames(data, [tmp_path / "md.dump"])
    assert elements.tolist() == syn.true.elements.tolist()
    assert np.allclose(masses, [atomic_masses[atomic_numbers[e]] for e in syn.true.elements])


def test_atom_style_contradicting_the_data_file_is_refused(tmp_path):
    syn = _walk(n_frames=20)
    data = _write_data(tmp_path / "s.data", syn, style="full")
    (tmp_path / "md.dump").write_text(_dump_text(syn))
    with pytest.raises(IonmdError, match="contradicts.*Atoms section is '# full'"):
        read_frames(data, [tmp_path / "md.dump"], atom_style="id type x y z")
    # the same columns in MDAnalysis's names are no contradiction
    _, elements, _ = read_frames(data, [tmp_path / "md.dump"],
                                 atom_style="id resid type charge x y z")
    assert elements.tolist() == syn.true.elements.tolist()


def test_data_header_comments_are_ignored(tmp_path):
    syn = _walk(n_frames=20)
    (tmp_path / "md.dump").write_text(_dump_text(syn))
    plain = read_frames(_write_data(tmp_path / "a.data", syn), [tmp_path / "md.dump"])
    noted = read_frames(_write_data(tmp_path / "b.data", syn, comments=True),
                        [tmp_path / "md.dump"])
    assert noted[1].tolist() == plain[1].tolist()
    assert np.array_equal(noted[0].positions, plain[0].positions)


def test_data_without_masses_takes_them_from_the_type_map(tmp_path):
    """Masses from the type map's elements: the same trajectory (framework drift
    removed, mass-weighted) as with the data file's Masses section."""
    syn = _walk(n_frames=40)
    (tmp_path / "md.dump").write_text(_dump_text(syn))
    type_map = {t: e for e, t in TYPES.items()}
    with_masses = read_lammps_trajectory(_write_data(tmp_path / "a.data", syn),
                                         [tmp_path / "md.dump"], timestep_fs=1.0)
    bare = _write_data(tmp_path / "b.data", syn, masses=False)
    without = read_lammps_trajectory(bare, [tmp_path / "md.dump"], timestep_fs=1.0,
                                     type_map=type_map)
    assert np.allclose(without.masses, with_masses.masses, atol=1e-6)
    a = with_masses.framework_drift_removed(["Li"]).positions
    b = without.framework_drift_removed(["Li"]).positions
    assert np.all(np.isfinite(b)) and np.abs(a - b).max() < 1e-9
    with pytest.raises(IonmdError, match="no Masses section.*type -> element map"):
        read_frames(bare, [tmp_path / "md.dump"])


# ---------------------------------------------------------------- dump files

def _read_dump_of(tmp_path, syn, columns, **kwargs):
    """The walk written as a dump with ``columns`` (beside its data file), read back."""
    data = _write_data(tmp_path / "s.data", syn)
    (tmp_path / "md.dump").write_text(_dump_text(syn, columns))
    return read_lammps_trajectory(data, [tmp_path / "md.dump"], timestep_fs=1.0, **kwargs)


@pytest.mark.parametrize("columns", ["id type x y z", "id type xs ys zs", "type id xsu ysu zsu",
                                     "id type xu yu zu"])
def test_dump_coordinates_in_a_moving_box_give_the_true_displacements(tmp_path, columns):
    """NpT with the box centred away from 0 (lo != 0, changing): every kind of dump
    coordinate gives the walk's true displacements (relative to lo(t))."""
    syn = _walk()
    assert np.ptp(_los(syn)) > 0.5
    traj = _read_dump_of(tmp_path, syn, columns)
    assert np.abs(_displacements(traj) - _true_displacements(syn)).max() < 1e-5


@pytest.mark.parametrize("columns", ["id type x y z xu yu zu", "id type xu yu zu x y z",
                                     "id type x y z ix iy iz", "id type xs ys zs ix iy iz"])
def test_dump_unwrapped_reads_the_unwrapped_columns_of_a_dump_holding_both(tmp_path, columns):
    """Constant box, a dump with wrapped and unwrapped coordinates (or image flags), read
    as unwrapped (``dump_unwrapped``): the walk's true displacements, not the wrapped
    coordinates taken for unwrapped ones."""
    syn = _walk(breathing=0.0)
    traj = _read_dump_of(tmp_path, syn, columns, dump_unwrapped=True)
    assert np.abs(_displacements(traj) - _true_displacements(syn)).max() < 1e-5


def test_dump_unwrapped_with_wrapped_coordinates_only_is_refused(tmp_path):
    syn = _walk(n_frames=20, breathing=0.0)
    with pytest.raises(IonmdError, match="wrapped coordinates only .* dump xu yu zu"):
        _read_dump_of(tmp_path, syn, "id type x y z", dump_unwrapped=True)


def test_dump_without_atom_ids_is_refused(tmp_path):
    syn = _walk(n_frames=20, breathing=0.0)
    with pytest.raises(IonmdError, match="no 'id' column.*add id to the dump"):
        _read_dump_of(tmp_path, syn, "type xu yu zu", dump_unwrapped=True)


def test_dump_appended_after_a_restart_is_stitched(tmp_path):
    """One file holding frames 0..150 and then, appended by the resumed run, 150..399
    (the seam frame twice): the true path, and the same as the two parts as pieces."""
    syn = _walk()
    data = _write_data(tmp_path / "s.data", syn)
    first, second = _dump_text(syn, frames=range(151)), _dump_text(syn, frames=range(150, 400))
    (tmp_path / "md.dump").write_text(first + second)
    (tmp_path / "md.0.dump").write_text(first)
    (tmp_path / "md.1.dump").write_text(second)
    one = read_lammps_trajectory(data, [tmp_path / "md.dump"], timestep_fs=1.0)
    two = read_lammps_trajectory(data, [tmp_path / "md.0.dump", tmp_path / "md.1.dump"],
                                 timestep_fs=1.0)
    assert np.array_equal(one.steps, 10 * np.arange(400))
    assert np.array_equal(one.positions, two.positions)
    assert np.abs(_displacements(one) - _true_displacements(syn)).max() < 1e-5


def test_dump_time_and_units_items_and_gzip_are_read(tmp_path):
    syn = _walk(n_frames=50)
    data = _write_data(tmp_path / "s.data", syn)
    plain = _dump_text(syn)
    (tmp_path / "md.dump").write_text(plain)
    timed = "ITEM: UNITS\nmetal\n" + _dump_text(syn, items="ITEM: TIME\n0.5\n")
    (tmp_path / "timed.dump").write_text(timed)
    with gzip.open(tmp_path / "md.dump.gz", "wt") as fh:
        fh.write(plain)
    ref = read_lammps_trajectory(data, [tmp_path / "md.dump"], timestep_fs=1.0)
    assert np.abs(_displacements(ref) - _true_displacements(syn)).max() < 1e-5
    for name in ("timed.dump", "md.dump.gz"):
        traj = read_lammps_trajectory(data, [tmp_path / name], timestep_fs=1.0)
        assert np.array_equal(traj.steps, ref.steps), name
        assert np.array_equal(traj.positions, ref.positions), name


LJ_NPT_OFF_ORIGIN = """
units metal
atom_style atomic
lattice fcc 5.0
region box block -2 2 -2 2 -2 2
create_box 2 box
create_atoms 1 box
set type 1 type/fraction 2 0.5 12345
mass 1 6.94
mass 2 35.45
pair_style lj/cut 7.0
pair_coeff 1 1 0.01 2.2
pair_coeff 2 2 0.08 3.3
pair_coeff 1 2 0.05 2.6
velocity all create 300 1
fix 1 all npt temp 300 300 0.1 iso 20000 20000 0.5
timestep 0.002
write_data s.data
dump x all custom 25 x.dump id type x y z
dump a all atom 25 a.dump
dump t all custom 25 t.dump id type x y z
dump_modify t time yes units yes
run 500
write_restart r.500
"""

LJ_RESUMED = """
read_restart r.500
pair_style lj/cut 7.0
pair_coeff 1 1 0.01 2.2
pair_coeff 2 2 0.08 3.3
pair_coeff 1 2 0.05 2.6
fix 1 all npt temp 300 300 0.1 iso 20000 20000 0.5
dump x all custom 25 x.dump id type x y z
dump_modify x append yes
run 500
"""


def test_real_lammps_npt_dumps_off_origin_agree(tmp_path):
    """LAMMPS NpT, box around 0 (lo = -10 A, moving): ``dump atom`` (scaled) and a dump
    with TIME/UNITS items give the displacements of the plain ``x y z`` dump;
    the resumed run's appended ``x y z`` file reads as its two parts stitched."""
    from lammps_runner import run_lmp

    run_lmp(LJ_NPT_OFF_ORIGIN, tmp_path, env={"OMP_NUM_THREADS": "1"})
    first_part = (tmp_path / "x.dump").read_text()
    data = tmp_path / "s.data"
    ref = read_lammps_trajectory(data, [tmp_path / "x.dump"], timestep_fs=2.0)
    lines = first_part.splitlines()
    xlo = [float(lines[i + 1].split()[0]) for i, line in enumerate(lines)
           if line.startswith("ITEM: BOX BOUNDS")]
    assert ref.n_frames == 21 and np.ptp(xlo) > 0.3
    for name, tol in (("a.dump", 1e-4), ("t.dump", 0)):
        traj = read_lammps_trajectory(data, [tmp_path / name], timestep_fs=2.0)
        assert np.array_equal(traj.steps, ref.steps), name
        assert np.abs(_displacements(traj) - _displacements(ref)).max() <= tol, name
    run_lmp(LJ_RESUMED, tmp_path, env={"OMP_NUM_THREADS": "1"})
    whole = (tmp_path / "x.dump").read_text()
    (tmp_path / "x.0.dump").write_text(first_part)
    (tmp_path / "x.1.dump").write_text(whole[len(first_part):])
    one = read_lammps_trajectory(data, [tmp_path / "x.dump"], timestep_fs=2.0)
    two = read_lammps_trajectory(data, [tmp_path / "x.0.dump", tmp_path / "x.1.dump"],
                                 timestep_fs=2.0)
    assert np.array_equal(one.steps, 25 * np.arange(41))
    assert np.array_equal(one.positions, two.positions)


# ---------------------------------------------------------------- run directories

def test_run_without_atom_style_reads_the_data_file_style(tmp_path):
    syn = _walk(n_frames=20)
    _write_data(tmp_path / "s.data", syn, style="full")
    (tmp_path / "md.dump").write_text(_dump_text(syn))
    (tmp_path / "run.json").write_text(json.dumps({"temperature_K": 900, "timestep_fs": 1.0,
                                                   "trajectory": ["md.dump"]}))
    spec = load_run_spec(tmp_path)
    _, elements, _ = read_frames(spec.data_file, spec.trajectory, atom_style=spec.atom_style)
    assert elements.tolist() == syn.true.elements.tolist()


@pytest.mark.parametrize("layout", ["{m}/{T}K/r0", "{m}/{T}K", "{m}/T{T}K/replica_1",
                                    "{m}/{T}/seed3"])
def test_runs_of_two_materials_laid_out_alike_are_fitted_apart(tmp_path, layout):
    """Without 'structure' in run.json, A/600K/r0 and B/600K/r0 are runs of A and B
    (not both 'r0'): each gets its own Arrhenius fit, which recovers its Ea."""
    from ionmd.analysis.report import analyze_runs

    kb, ea = 8.617333262e-5, {"A": 0.2, "B": 0.5}
    results = []
    for material in ea:
        for T in (600, 800, 1000):
            run = tmp_path / "runs" / layout.format(m=material, T=T)
            run.mkdir(parents=True)
            (run / "s.data").write_text("")
            (run / "run.json").write_text(json.dumps({"temperature_K": T, "timestep_fs": 1.0,
                                                      "trajectory": ["md.dump"]}))
            spec = load_run_spec(run)
            D = 1e-5 * np.exp(-ea[material] / (kb * T))
            results.append({"run": str(run), "structure": spec.structure, "replica": spec.replica,
                            "temperature_K": T, "diffusion": [
                                {"direction": "xyz", "species": "Li", "D": D,
                                 "D_ci95": [0.9 * D, 1.1 * D], "flags": []}]})
    assert sorted({r["structure"] for r in results}) == ["A", "B"]
    fits = analyze_runs(results, {}, tmp_path / "out")["arrhenius"]
    assert sorted(fits) == ["A", "B"]
    for material, value in ea.items():
        assert fits[material]["D_Li"]["Ea_eV"] == pytest.approx(value, rel=1e-6)
