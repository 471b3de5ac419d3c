"""``ionmd analyze`` on trajectories ionmd did not write (VASP XDATCAR, extended XYZ, ASE
.traj), read through ASE into the same analysis as LAMMPS runs.

References: the same frames written as a LAMMPS dump + data file (by hand, full precision)
give the same numbers; synthetic walks carry their true path and D; an ASE MD run says
its own time step, interval, temperature and (``Atoms.get_temperature``) kinetic
temperature."""

import json
import warnings

import numpy as np
import pytest
from ase import Atoms, units
from ase.data import atomic_masses, atomic_numbers
from ase.io import Trajectory, write

import synthetic_trajectories as st
from ionmd.analysis.run_inputs import read_logs, run_frames
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main
from ionmd.errors import IonmdError

KB = 8.617333262e-5
EA, D_1000 = 0.25, 0.15          # eV; A^2/ps at 1000 K
TEMPERATURES = (600, 800, 1000)
DT_FS, EVERY = 2.0, 50           # 0.1 ps between frames
L, GRID = 12.5, 64               # box edge; positions on a 1/64 A grid: exact in every format
TYPES = {"Cl": 1, "Li": 2}
POINT_IONS = ["--collapse-fraction", "0.01"]   # synthetic ions walk through each other
COMMON = {"mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1}, "discard_ps": 2.0,
          "structure": "synthetic"}


def _walk(T, n_frames=300, n_li=16):
    """Wrapped frames of a Brownian Li walk in a vibrating Cl framework (constant cell),
    on a grid that the XDATCAR (8 decimals of fractions of 12.5 A) and extended XYZ
    (8 decimals of A) writers keep exactly, so every file holds the same numbers."""
    rng = np.random.default_rng(T)
    D = D_1000 * np.exp(-EA / KB * (1 / T - 1 / 1000))
    s = st.make(st.brownian_steps(n_frames, n_li, [D] * 3, 0.1, rng), L=L, rng=rng)
    pos = np.mod(np.round(s.wrapped * GRID) / GRID, L)
    return pos, s.true.boxes, s.true.elements


def _xyz(x):
    return " ".join(repr(float(v)) for v in x)   # exact round trip


def _images(pos, boxes, elements):
    return [Atoms(elements.tolist(), positions=p, cell=b, pbc=True) for p, b in zip(pos, boxes)]


def _lammps_dir(path, T, pos, boxes, elements):
    """The frames as a LAMMPS run: data file and ``dump custom`` at full precision."""
    path.mkdir()
    mass = {e: atomic_masses[atomic_numbers[e]] for e in TYPES}
    lines = ["reference", "", f"{len(elements)} atoms", "2 atom types", "",
             *(f"0.0 {L!r} {a}lo {a}hi" for a in "xyz"), "", "Masses", "",
             *(f"{t} {float(mass[e])!r}" for e, t in TYPES.items()), "", "Atoms # atomic", "",
             *(f"{i + 1} {TYPES[e]} {_xyz(x)}"
               for i, (e, x) in enumerate(zip(elements, pos[0])))]
    (path / "struct.data").write_text("\n".join(lines) + "\n")
    dump = []
    for t, (p, b) in enumerate(zip(pos, boxes)):
        dump += [f"ITEM: TIMESTEP\n{t * EVERY}\nITEM: NUMBER OF ATOMS\n{len(elements)}",
                 "ITEM: BOX BOUNDS pp pp pp", *(f"0.0 {float(b[k, k])!r}" for k in range(3)),
                 "ITEM: ATOMS id type x y z",
                 *(f"{i + 1} {TYPES[e]} {_xyz(x)}"
                   for i, (e, x) in enumerate(zip(elements, p)))]
    (path / "md.dump").write_text("\n".join(dump) + "\n")
    (path / "run.json").write_text(json.dumps({
        **COMMON, "temperature_K": T, "timestep_fs": DT_FS, "dump_every": EVERY,
        "trajectory": ["md.dump"]}))


def _foreign_dir(path, T, pos, boxes, elements, kind):
    """The frames through ASE's writers. XDATCAR and extended XYZ say no timing (run.json
    gives the temperature, the command line the time step); the .traj carries the header
    ASE MD writes (Langevin's ``todict()`` and ``interval``), so nothing else is given."""
    path.mkdir()
    images = _images(pos, boxes, elements)
    meta = dict(COMMON)
    if kind == "traj":
        with Trajectory(str(path / "md.traj"), "w") as traj:
            traj.set_description({"type": "molecular-dynamics", "md-type": "Langevin",
                                  "timestep": DT_FS * units.fs, "temperature_K": float(T),
                                  "friction": 0.01, "fixcm": True, "interval": EVERY})
            for atoms in images:
                traj.write(atoms)
    else:
        meta["temperature_K"] = T
        if kind == "extxyz":
            write(path / "md.extxyz", images, format="extxyz")
            meta["trajectory"] = ["md.extxyz"]
        else:               # found in the run directory by its name
            write(path / "XDATCAR", images, format="vasp-xdatcar")
    (path / "run.json").write_text(json.dumps(meta))


def _assert_same(a, b, where=""):
    """Equal trees of results: numbers to 1e-10 relative; run paths not compared."""
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            if k not in ("run", "runs", "files"):
                _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{k}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-10, abs=1e-300), where
    else:
        assert a == b, where


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Three temperatures as LAMMPS runs, analysed once."""
    root = tmp_path_factory.mktemp("lammps")
    walks = {T: _walk(T) for T in TEMPERATURES}
    for T, w in walks.items():
        _lammps_dir(root / f"T{T}", T, *w)
    assert main(["analyze", *[str(root / f"T{T}") for T in TEMPERATURES], "-o",
                 str(root / "out"), *POINT_IONS]) == 0
    return walks, root / "out"


@pytest.mark.parametrize("kind", ["xdatcar", "extxyz", "traj"])
def test_same_frames_give_the_lammps_results(tmp_path, reference, kind):
    walks, ref_out = reference
    for T, w in walks.items():
        _foreign_dir(tmp_path / f"T{T}", T, *w, kind)
    timing = [] if kind == "traj" else ["--timestep-fs", str(DT_FS), "--dump-every", str(EVERY)]
    out = tmp_path / "out"
    assert main(["analyze", *[str(tmp_path / f"T{T}") for T in TEMPERATURES], "-o", str(out),
                 *timing, *POINT_IONS]) == 0
    for T in TEMPERATURES:
        ref = json.loads((ref_out / f"T{T}" / "results.json").read_text())
        res = json.loads((out / f"T{T}" / "results.json").read_text())
        assert ref["conductivity"]["sigma"] > 0 and ref["diffusion"][0]["D_ci95"][0] > 0
        for key in ("diffusion", "conductivity", "run_length_ps", "volume_A3", "failure",
                    "timestep_fs", "temperature_K"):
            _assert_same(ref[key], res[key], f"T{T}.{key}")
    ref = json.loads((ref_out / "summary.json").read_text())
    res = json.loads((out / "summary.json").read_text())
    assert {"D_Li", "sigma_T"} <= set(ref["arrhenius"]["synthetic"])
    _assert_same(ref["arrhenius"], res["arrhenius"], "arrhenius")
    _assert_same(ref["structures"], res["structures"], "structures")


def _write_xdatcar(path, frac, cells, elements, variable_cell):
    """XDATCAR as VASP writes it: the header once (fixed cell) or before every frame
    (variable cell, ISIF = 3); more digits than VASP so that only unwrapping is tested."""
    species = list(dict.fromkeys(elements.tolist()))
    counts = [int(np.sum(elements == s)) for s in species]

    def header(cell):
        return ["Li-Cl MD", "   1.00000000",
                *("  " + " ".join(f"{x:.12f}" for x in row) for row in cell),
                "   " + "   ".join(species), "   " + "   ".join(map(str, counts))]

    out = [] if variable_cell else header(cells[0])
    for t, (s, cell) in enumerate(zip(frac, cells)):
        out += (header(cell) if variable_cell else []) + [f"Direct configuration={t + 1:6d}"]
        out += ["  " + " ".join(f"{x:.12f}" for x in row) for row in s]
    path.write_text("\n".join(out) + "\n")


def _npt_walk(n_frames=800, n_atoms=12, seed=3):
    """Atoms walking in a triclinic cell that breathes by 8 % and shears: true path
    (continuous Cartesian), every frame's cell, wrapped fractional coordinates and each
    frame's image counts. As under a barostat, the cell change carries every atom in the
    cell affinely (its fraction is kept), then the atoms take their own steps."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames)
    cells = np.array([[10.0, 0, 0], [2.0, 9.5, 0], [1.0, 1.5, 9.0]]) * (
        1 + 0.08 * np.sin(2 * np.pi * t / 120))[:, None, None]
    cells[:, 1, 0] += 0.6 * np.sin(2 * np.pi * t / 90)
    w = rng.random((n_atoms, 3))
    true, frac, images = [w @ cells[0]], [w], [np.zeros((n_atoms, 3))]
    for k in range(1, n_frames):
        step = 0.5 * rng.standard_normal((n_atoms, 3))
        true.append(true[-1] + w @ (cells[k] - cells[k - 1]) + step)
        w = w + step @ np.linalg.inv(cells[k])
        images.append(images[-1] + np.floor(w))
        w = w - np.floor(w)
        frac.append(w)
    return np.array(true), cells, np.array(frac), np.array(images)


@pytest.mark.parametrize("kind", ["xdatcar", "extxyz"])
def test_npt_trajectory_with_a_changing_cell_is_unwrapped_to_the_true_path(tmp_path, kind):
    """VASP's NpT XDATCAR (wrapped fractions, a lattice per frame) and an extended XYZ with
    the positions ASE MD writes (never wrapped: fraction + image count, times the frame's
    cell, which a changing cell moves by its image count)."""
    true, cells, frac, images = _npt_walk()
    assert np.abs(images).max() >= 2          # atoms cross several images
    elements = np.array(["Li"] * 8 + ["Cl"] * 4)
    if kind == "xdatcar":
        _write_xdatcar(tmp_path / "XDATCAR", frac, cells, elements, True)
    else:
        unwrapped = np.einsum("tnk,tkl->tnl", frac + images, cells)
        write(tmp_path / "md.extxyz", _images(unwrapped, cells, elements), format="extxyz")
    spec = load_run_spec(tmp_path, {"temperature_K": 900, "timestep_fs": 1.0, "dump_every": 5})
    frames, found, _ = run_frames(spec)
    assert found.tolist() == elements.tolist()
    np.testing.assert_allclose(frames.boxes, cells, atol=1e-11)
    assert frames.steps.tolist() == list(range(0, 5 * len(cells), 5))
    pos = frames.unwrapped()
    digits = 1e-8 if kind == "xdatcar" else 1e-7   # extended XYZ keeps 8 decimals of A
    np.testing.assert_allclose(pos - pos[0], true - true[0], atol=digits)


def test_known_d_is_recovered_from_a_vasp_nvt_xdatcar(tmp_path):
    rng = np.random.default_rng(11)
    D = 0.08   # A^2/ps
    s = st.make(st.brownian_steps(1000, 32, [D] * 3, 0.1, rng), L=12.0, n_framework=16, rng=rng)
    _write_xdatcar(tmp_path / "XDATCAR", s.wrapped / 12.0, s.true.boxes, s.true.elements, False)
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path), "-o", str(out), "--temperature", "700",
                 "--timestep-fs", "2", "--dump-every", "50", "--charges", "Li=1,Cl=-1",
                 *POINT_IONS]) == 0
    res = json.loads(next(out.rglob("results.json")).read_text())
    d = next(x for x in res["diffusion"] if x["direction"] == "xyz")
    lo, hi = d["D_ci95"]
    assert abs(d["D"] - D * 1e-4) < 1.5 * (hi - lo) / 2     # 3 standard errors
    assert abs(d["D"] / (D * 1e-4) - 1) < 0.15
    assert res["run_length_ps"] == pytest.approx(99.9)


def test_a_trajectory_file_given_as_the_run_is_its_folders_run(tmp_path, capsys):
    """`ionmd analyze vasp/XDATCAR` said "run directory vasp/XDATCAR not found": the file
    now stands for its folder, with the same results as the folder; two files of one
    folder (one analysis/ for both) and a file with --trajectory are refused."""
    pos, boxes, elements = _walk(800, n_frames=40)
    run = tmp_path / "vasp"
    run.mkdir()
    write(run / "XDATCAR", _images(pos, boxes, elements), format="vasp-xdatcar")
    timing = ["--temperature", "800", "--timestep-fs", "2", "--dump-every", "50",
              "--charges", "Li=1,Cl=-1", *POINT_IONS]
    assert main(["analyze", str(run), "-o", str(tmp_path / "by_folder"), *timing]) == 0
    assert main(["analyze", str(run / "XDATCAR"), *timing]) == 0
    by_file = json.loads((run / "analysis" / "results.json").read_text())
    by_folder = json.loads(next((tmp_path / "by_folder").rglob("results.json")).read_text())
    assert by_file["diffusion"] == by_folder["diffusion"]
    assert by_file["conductivity"] == by_folder["conductivity"]
    assert by_file["trajectory"] == by_folder["trajectory"] == ["XDATCAR"]
    write(run / "XDATCAR2", _images(pos, boxes, elements), format="vasp-xdatcar")
    err = _error(capsys, [str(run / "XDATCAR"), str(run / "XDATCAR2"), *timing])
    assert "are files of one folder" in err and "--trajectory XDATCAR,XDATCAR2" in err
    assert "is a file and --trajectory is given too" in _error(
        capsys, [str(run / "XDATCAR"), "--trajectory", "XDATCAR2", *timing])


def _error(capsys, args):
    """What ``ionmd analyze`` says on stderr when it exits 1."""
    assert main(["analyze", *args]) == 1
    return capsys.readouterr().err


def test_missing_timing_is_named_and_a_contradiction_refused(tmp_path, capsys):
    pos, boxes, elements = _walk(800, n_frames=20)
    write(tmp_path / "XDATCAR", _images(pos, boxes, elements), format="vasp-xdatcar")
    run = str(tmp_path)
    assert ("XDATCAR does not say timestep_fs, dump_every: pass --timestep-fs (VASP: POTIM) "
            "and --dump-every (VASP: NBLOCK)") in _error(capsys, [run, "--temperature", "800"])
    assert "does not say dump_every: pass --dump-every" in _error(
        capsys, [run, "--temperature", "800", "--timestep-fs", "2"])
    assert "does not say temperature_K: pass --temperature" in _error(
        capsys, [run, "--timestep-fs", "2", "--dump-every", "1"])
    assert "type_map given" in _error(capsys, [run, "--temperature", "800", "--timestep-fs", "2",
                                                "--dump-every", "1", "--type-map", "1=Li"])
    cut = tmp_path / "cut"
    cut.mkdir()
    text = (tmp_path / "XDATCAR").read_text()
    middle = text.index("Direct configuration=", len(text) // 2) + 100
    (cut / "XDATCAR").write_text(text[:middle])    # killed while writing a frame
    assert "cut the file after its last whole frame" in _error(
        capsys, [str(cut), "--temperature", "800", "--timestep-fs", "2", "--dump-every", "1"])
    other = tmp_path / "traj"
    _foreign_dir(other, 800, pos, boxes, elements, "traj")
    assert "md.traj (its ASE MD header) says timestep_fs = 2 but 1 was given" in _error(
        capsys, [str(other), "--timestep-fs", "1"])
    assert "md.traj (its ASE MD header) says temperature_K = 800 but 900 was given" in _error(
        capsys, [str(other), "--temperature", "900"])


def test_vasp_incar_beside_an_xdatcar_gives_its_timing(tmp_path, capsys):
    """POTIM (fs), NBLOCK (steps between XDATCAR frames) and TEBEG, as VASP defines them
    (TEBEG is the run's temperature where a thermostat holds it: SMASS = 0, Nose);
    a temperature ramp (TEEND) is no run temperature."""
    pos, boxes, elements = _walk(800, n_frames=20)
    write(tmp_path / "XDATCAR", _images(pos, boxes, elements), format="vasp-xdatcar")
    (tmp_path / "INCAR").write_text("SYSTEM = Li-Cl AIMD\nIBRION = 0 ; POTIM = 1.5  # fs\n"
                                    "NBLOCK = 4 ! every 4th step\nTEBEG = 800\nSMASS = 0\n")
    spec = load_run_spec(tmp_path)
    assert (spec.timestep_fs, spec.dump_every, spec.temperature_K) == (1.5, 4, 800.0)
    assert run_frames(spec)[0].steps.tolist() == list(range(0, 80, 4))
    assert f"{tmp_path / 'INCAR'} says dump_every = 4 but 1 was given" in _error(
        capsys, [str(tmp_path), "--dump-every", "1"])
    (tmp_path / "INCAR").write_text("POTIM = 2\nTEBEG = 300\nTEEND = 900\n")
    assert "does not say temperature_K: pass --temperature" in _error(capsys, [str(tmp_path)])
    spec = load_run_spec(tmp_path, {"temperature_K": 600})
    assert (spec.timestep_fs, spec.dump_every, spec.temperature_K) == (2.0, 1, 600.0)


def test_ase_md_traj_and_extxyz_say_their_own_timing_and_temperature(tmp_path):
    """A real ASE Langevin run (EMT copper): its .traj gives time step, interval,
    thermostat temperature and, from the momenta, ASE's own kinetic temperature; an
    extended XYZ with ``step``/``time_fs`` in its comment lines gives the time step."""
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.io import read
    from ase.md.langevin import Langevin

    atoms = bulk("Cu", cubic=True).repeat(2)
    atoms.calc = EMT()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)   # fixcm's deprecation (ASE 3.28)
        md = Langevin(atoms, 1.5 * units.fs, temperature_K=1200, friction=0.02,
                      trajectory=str(tmp_path / "md.traj"), loginterval=4, rng=np.random.default_rng(0))
    md.run(24)
    spec = load_run_spec(tmp_path, {"mobile_species": ["Cu"]})
    assert (spec.timestep_fs, spec.dump_every, spec.temperature_K) == (1.5, 4, 1200.0)
    frames, elements, _ = run_frames(spec)
    assert frames.steps.tolist() == list(range(0, 25, 4)) and set(elements) == {"Cu"}
    thermo, _ = read_logs(spec)
    expected = [a.get_temperature() for a in read(tmp_path / "md.traj", ":")]
    np.testing.assert_allclose(thermo["Temp"], expected, rtol=1e-12)
    assert thermo["Step"].tolist() == frames.steps.tolist()

    xyz = tmp_path / "xyz"
    xyz.mkdir()
    images = read(tmp_path / "md.traj", ":")
    for k, a in enumerate(images):
        a.info.update(step=100 + 4 * k, time_fs=6.0 * k)
    write(xyz / "md.xyz", images, format="extxyz")
    spec = load_run_spec(xyz, {"temperature_K": 1200})
    assert (spec.timestep_fs, spec.dump_every) == (1.5, 4)
    assert run_frames(spec)[0].steps.tolist() == list(range(100, 125, 4))
    with pytest.raises(IonmdError, match=r"frames are 6 fs apart.*2 fs x dump_every 4"):
        load_run_spec(xyz, {"temperature_K": 1200, "timestep_fs": 2.0})

    from ase.optimize import BFGS

    relax = tmp_path / "relax"
    relax.mkdir()
    BFGS(atoms, trajectory=str(relax / "opt.traj")).run(steps=2)
    with pytest.raises(IonmdError, match=r"opt.traj was written by an optimizer \(BFGS\)"):
        load_run_spec(relax, {"temperature_K": 1200, "timestep_fs": 1.0, "dump_every": 1})


def test_pieces_of_a_restarted_ase_run_are_joined(tmp_path):
    """Two .traj files of one run, the second starting with the first's last frame (what
    ASE MD restarted into a new file writes): one continuous, evenly spaced trajectory."""
    true, cells, frac, _ = _npt_walk(n_frames=60, n_atoms=6, seed=5)
    wrapped = np.einsum("tnk,tkl->tnl", frac, cells)
    elements = np.array(["Li"] * 6)
    write(tmp_path / "a.traj", _images(wrapped[:31], cells[:31], elements))
    write(tmp_path / "b.traj", _images(wrapped[30:], cells[30:], elements))
    spec = load_run_spec(tmp_path, {"temperature_K": 900, "timestep_fs": 1.0, "dump_every": 2,
                                    "trajectory": ["a.traj", "b.traj"]})
    frames = run_frames(spec)[0]
    assert frames.steps.tolist() == list(range(0, 120, 2))
    pos = frames.unwrapped()
    np.testing.assert_allclose(pos - pos[0], true - true[0], atol=1e-8)
    with pytest.raises(IonmdError, match=r"several trajectory files \(a.traj, b.traj\)"):
        load_run_spec(tmp_path, {"temperature_K": 900, "timestep_fs": 1.0, "dump_every": 2})
