"""Synthetic trajectories with known diffusion coefficients, vectorised so that many
independent trials stay cheap.

Mobile "Li" atoms do continuous Brownian motion (Gaussian steps, variance 2 D dt per
axis) or a random walk on a cubic lattice (hops of length ``a``); "Cl" atoms form a
framework that vibrates about fixed sites and may drift as a whole. The box may change
(NpT-like breathing); the true, continuous positions are kept so that unwrapping can be
checked against them.

A breathing box (``breathing``, ``period``) is a coherent sinusoid: every atom's affine
remap adds a bounded oscillation of ``(s - s_framework) dL`` to its path, a periodic wiggle
in the MSD. The path is right (minimum-image unwrapping reproduces it exactly) and its
long-time D is the steps' D; but a fast wiggle (period ~0.5 ps) without vibration biases
the GLS slope, which leans on the first lags of the fit (see docs/analysis.md, Diffusion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ionmd.analysis.trajectory import Trajectory


@dataclass
class Synthetic:
    true: Trajectory            # continuous positions (the answer)
    wrapped: np.ndarray         # every frame wrapped into its own box
    lammps_unwrapped: np.ndarray  # x + n L(t): what `dump_modify unwrap yes` writes


def _framework(n: int, L: float, rng) -> np.ndarray:
    side = int(np.ceil(n ** (1 / 3)))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    return (grid[:n] + 0.5) * L / side


def boxes_for(n_frames: int, L: float, breathing: float = 0.0, period: int = 50) -> np.ndarray:
    """Cubic boxes whose edge oscillates by ``breathing`` (relative) with ``period`` frames."""
    edge = L * (1 + breathing * np.sin(2 * np.pi * np.arange(n_frames) / period))
    return edge[:, None, None] * np.eye(3)


def make(mobile_steps: np.ndarray, *, L: float = 12.0, n_framework: int = 8,
         dt_ps: float = 0.1, breathing: float = 0.0, period: int = 50,
         drift: np.ndarray | None = None, vib: float = 0.05, rng=None) -> Synthetic:
    """Assemble a trajectory from per-frame mobile-atom steps (T-1, N_li, 3).

    The box changes the way LAMMPS's barostat changes it: fractional coordinates are
    kept (atoms are remapped affinely), then the atoms make their own steps, wrap, and an
    image counter ``n`` changes at each crossing. The true path is the sum of all these
    moves; LAMMPS's unwrapped ``(s + n) L(t)`` is not, once the box has changed.
    ``period``: frames per box oscillation."""
    rng = np.random.default_rng(rng)
    n_frames = mobile_steps.shape[0] + 1
    n_li = mobile_steps.shape[1]
    boxes = boxes_for(n_frames, L, breathing, period)
    edge = boxes[:, 0, 0]
    sites = _framework(n_framework, L, rng)
    noise = vib * rng.standard_normal((n_frames, n_framework, 3))
    steps = np.concatenate([mobile_steps, np.diff(noise, axis=0)], axis=1)
    if drift is not None:  # the whole cell content drifts (framework COM motion)
        steps = steps + np.asarray(drift)[None, None, :]
    start = np.concatenate([rng.random((n_li, 3)) * L, sites + noise[0]], axis=0)
    true = np.empty((n_frames, n_li + n_framework, 3))
    true[0] = start
    frac = start / edge[0]
    images = np.floor(frac)
    frac -= images
    fracs, imgs = [frac.copy()], [images.copy()]
    for t in range(1, n_frames):
        affine = frac * (edge[t] - edge[t - 1])
        true[t] = true[t - 1] + affine + steps[t - 1]
        frac = frac + steps[t - 1] / edge[t]
        shift = np.floor(frac)
        images += shift
        frac -= shift
        fracs.append(frac.copy())
        imgs.append(images.copy())
    fracs, imgs = np.array(fracs), np.array(imgs)
    wrapped = fracs * edge[:, None, None]
    lammps_unwrapped = (fracs + imgs) * edge[:, None, None]
    traj = Trajectory(positions=true, boxes=boxes, steps=np.arange(n_frames) * 100,
                      elements=np.array(["Li"] * n_li + ["Cl"] * n_framework),
                      masses=np.array([6.94] * n_li + [35.45] * n_framework),
                      timestep_fs=dt_ps * 1e3 / 100)
    return Synthetic(true=traj, wrapped=wrapped, lammps_unwrapped=lammps_unwrapped)


def brownian_steps(n_frames: int, n_li: int, D_axes, dt_ps: float, rng) -> np.ndarray:
    """Gaussian steps with per-axis diffusion coefficients ``D_axes`` (Å^2/ps)."""
    sd = np.sqrt(2 * np.asarray(D_axes, float) * dt_ps)
    return rng.standard_normal((n_frames - 1, n_li, 3)) * sd


def lattice_steps(n_frames: int, n_li: int, rate_axes, a: float, dt_ps: float, rng) -> np.ndarray:
    """Hops of length ``a`` along +-axis; ``rate_axes`` hops/ps per axis (each sign half).
    D along an axis = rate * a^2 / 2 (per-frame hop probability rate * dt <= 1)."""
    p = np.asarray(rate_axes, float) * dt_ps
    u = rng.random((n_frames - 1, n_li, 3))
    hop = u < p
    sign = np.where(rng.random((n_frames - 1, n_li, 3)) < 0.5, -1.0, 1.0)
    return hop * sign * a


def write_lammps_files(folder, s: Synthetic, temperatures, *, specorder, symbols=None,
                       dcd: str = "md.dcd", log: str = "log.lammps", every: int = 50,
                       loop_steps: int | None = None) -> None:
    """The files of a LAMMPS run of ``s`` in ``folder``: ``struct.data`` (ASE, types in
    ``specorder``), a DCD of the unwrapped frames as ``dump_modify unwrap yes`` writes them
    (MDAnalysis, one frame per ``every`` steps) and a log of one row per frame (Step, Temp
    from ``temperatures`` row by row, Volume), closed by LAMMPS's loop line where
    ``loop_steps`` is given."""
    import MDAnalysis as mda
    from ase import Atoms
    from ase.io import write
    from MDAnalysis.coordinates.DCD import DCDWriter

    symbols = list(s.true.elements) if symbols is None else list(symbols)
    atoms = Atoms(symbols, positions=s.wrapped[0], cell=s.true.boxes[0], pbc=True)
    write(folder / "struct.data", atoms, format="lammps-data", specorder=list(specorder),
          masses=True, atom_style="atomic")
    u = mda.Universe.empty(len(atoms), trajectory=True)
    with DCDWriter(str(folder / dcd), len(atoms), nsavc=every, istart=0, dt=0.1) as w:
        for pos, box in zip(s.lammps_unwrapped, s.true.boxes):
            u.atoms.positions = pos
            u.dimensions = [*np.diag(box), 90, 90, 90]
            w.write(u)
    rows = "".join(f"{k * every:10d} {t:.3f} {np.linalg.det(b):.3f}\n"
                   for k, (t, b) in enumerate(zip(temperatures, s.true.boxes)))
    loop = (f"Loop time of 1 on 1 procs for {loop_steps} steps with {len(atoms)} atoms\n"
            if loop_steps is not None else "")
    (folder / log).write_text("   Step          Temp          Volume\n" + rows + loop)


def write_run_folder(path: Path, s: Synthetic, T: float) -> Path:
    """A run folder as ``ionmd analyze`` reads it, made at ``path``: the LAMMPS files of ``s``
    at ``T`` (types Cl, Li; a log closed after 14950 steps: 300 frames 50 steps apart) and its
    run.json (2 fs steps, a frame every 50, 2 ps discarded, mobile Li, charges Li +1 and
    Cl -1, structure ``synthetic``): 27.9 ps analysed of 300 frames."""
    path.mkdir(parents=True)
    write_lammps_files(path, s, np.full(len(s.true.boxes), float(T)),
                       specorder=["Cl", "Li"], loop_steps=14950)
    (path / "run.json").write_text(json.dumps({
        "schema": "ionmd-run/1", "temperature_K": T, "timestep_fs": 2.0, "dump_every": 50,
        "discard_ps": 2.0, "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1},
        "structure": "synthetic"}))
    return path


def arrhenius_run(path: Path, T: float, seed: int, *, breathing: float = 0.0) -> Path:
    """:func:`write_run_folder` of 16 Brownian Li (300 frames 0.1 ps apart, seeded by
    ``seed``) in a 12 A box of 8 Cl (``breathing``: :func:`make`'s), their D
    0.15 A^2/ps at 1000 K with an Ea of 0.25 eV."""
    rng = np.random.default_rng(seed)
    D = 0.15 * np.exp(-0.25 / 8.617333262e-5 * (1 / T - 1 / 1000))     # A^2/ps
    s = make(brownian_steps(300, 16, [D] * 3, 0.1, rng), L=12.0, breathing=breathing, rng=rng)
    return write_run_folder(path, s, T)
