"""Energy of one mobile ion at many grid points, many points per model call.

The model file of ``ionmd export`` (TorchScript; the contract of
:mod:`ionmd.export.contract`) maps a graph to per-atom energies. Each grid point is one
replica graph, framework + the mobile ion at that point; replicas are concatenated as
a disjoint union (node ids shifted per replica), so one ``forward`` evaluates a whole
batch, energy only (no autograd).

What the framework does not change is built once: its species, its own edges (ASE's
``neighbor_list`` on the framework alone) and the mobile ion's edges to its own
periodic images (lattice translations shorter than the cutoff; they do not depend on
where the ion sits). Per batch only the mobile-framework edges are new; they come from
pymatgen's compiled periodic point-in-sphere search (``find_points_in_spheres``),
both directions of each pair as the contract requires.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms

from ionmd.errors import IonmdError


class ModelRunner:
    """An ionmd model file loaded for energy-only evaluation from Python.

    Parameters
    ----------
    path
        Model file written by ``ionmd export`` (TorchScript or an AOTInductor package).
    device
        Torch device (``"cpu"``, ``"cuda"``...).
    """

    def __init__(self, path: str | Path, device: str = "cpu"):
        import torch

        from ionmd.export.contract import read_metadata, sha256_of

        self.path = Path(path)
        self.meta = read_metadata(self.path)
        self.elements = self.meta["elements"].split()
        self.cutoff = float(self.meta["cutoff"])
        self.dtype = torch.float64 if self.meta["dtype"] == "float64" else torch.float32
        self.device = torch.device(device)
        self.sha256 = sha256_of(self.path)
        self.node_evaluations = 0      # measured cost, for time estimates
        self.model_seconds = 0.0
        self.package = self.module = None
        if self.meta.get("file_format", "torchscript") == "aoti":
            self._load_package(torch)
            return
        from ionmd import _ops

        _ops.load()            # fused MACE convolutions call torch.ops.ionmd.*
        try:
            self.module = torch.jit.load(str(self.path), map_location=self.device).eval()
        except RuntimeError as exc:
            raise IonmdError(f"cannot load {self.path} as a TorchScript model: {exc}") from exc

    def _load_package(self, torch) -> None:
        """An AOTInductor package (eSEN exports only to this format). It computes edge
        gradients on every call too, which the screen discards: about twice the cost of an
        energy-only TorchScript call, but the same energies."""
        compiled_for = self.meta.get("compiled_for", "cpu")
        if compiled_for != self.device.type:
            raise IonmdError(
                f"{self.path.name} was compiled for {compiled_for!r} but the screen runs on "
                f"{self.device.type!r}: use --device {compiled_for}, or re-export with "
                f"`ionmd export ... --format aoti --device {self.device.type}`")
        try:
            self.package = torch._inductor.aoti_load_package(str(self.path))
        except Exception as exc:   # noqa: BLE001 - torch raises several kinds here
            raise IonmdError(f"cannot load {self.path} as an AOTInductor package: {exc}") from exc

    def species_of(self, symbols) -> np.ndarray:
        """Model-internal species indices; an unknown element is an error naming it."""
        index = {s: k for k, s in enumerate(self.elements)}
        missing = sorted({s for s in symbols if s not in index})
        if missing:
            raise IonmdError(
                f"model {self.path.name} does not know {', '.join(missing)}; it knows "
                f"{' '.join(self.elements)}: use a model trained on these elements")
        return np.array([index[s] for s in symbols], dtype=np.int64)

    def per_atom_energies(self, edge_vec: np.ndarray, edge_index: np.ndarray,
                          species: np.ndarray) -> np.ndarray:
        """One ``forward`` of the contract (all nodes local), float64 result."""
        import time

        import torch

        t0 = time.perf_counter()
        args = (torch.as_tensor(edge_vec, dtype=self.dtype, device=self.device),
                torch.as_tensor(edge_index, dtype=torch.int64, device=self.device),
                torch.as_tensor(species, dtype=torch.int64, device=self.device))
        if self.package is not None:
            nlocal = torch.tensor([len(species)], dtype=torch.int64, device=self.device)
            out = self.package(*args, nlocal)[0]      # (node energies, edge gradients)
        else:
            from ionmd._ops import torchscript_as_the_plugin

            with torch.inference_mode(), torchscript_as_the_plugin():
                out = self.module(*args, len(species))
        result = out.detach().to("cpu", torch.float64).numpy()
        self.model_seconds += time.perf_counter() - t0
        self.node_evaluations += len(species)
        return result

    def seconds_per_node(self) -> float | None:
        """Measured model time per node (atom) so far; None before the first call."""
        return self.model_seconds / self.node_evaluations if self.node_evaluations else None


class FrameworkScan:
    """Total energies of ``atoms`` with atom ``mobile_index`` moved to given points.

    Parameters
    ----------
    runner
        The loaded model.
    atoms
        Periodic structure (the framework is every atom except ``mobile_index``).
    mobile_index
        Index of the mobile ion in ``atoms``.
    """

    def __init__(self, runner: ModelRunner, atoms: Atoms, mobile_index: int):
        from ase.neighborlist import neighbor_list

        self.runner = runner
        self.cell = np.array(atoms.cell.array, dtype=float)
        keep = [i for i in range(len(atoms)) if i != mobile_index]
        self.framework = atoms[keep]
        self.framework.wrap()
        symbols = self.framework.get_chemical_symbols() + [atoms[mobile_index].symbol]
        self.species = runner.species_of(symbols)          # framework nodes, then the ion
        self.n_nodes = len(symbols)
        rc = runner.cutoff
        i, j, d = neighbor_list("ijD", self.framework, rc)
        self.ff_index = np.stack([i, j]).astype(np.int64)
        self.ff_vec = d.astype(float)
        alone = Atoms(atoms[mobile_index].symbol, positions=[[0.0, 0.0, 0.0]],
                      cell=self.cell, pbc=True)
        _, _, t = neighbor_list("ijD", alone, rc)          # the ion's own images
        self.self_vec = t.astype(float)

    def _batch_graph(self, points: np.ndarray):
        from ionmd.screen.grid import points_near_atoms

        b = len(points)
        n = self.n_nodes
        mob = n - 1
        p, a, offsets, _ = points_near_atoms(self.framework, points, self.runner.cutoff)
        vec_mf = self.framework.positions[a] + offsets @ self.cell - points[p]   # x_j - x_i
        base = np.arange(b, dtype=np.int64) * n
        # framework-framework edges, identical in every replica
        ff = (self.ff_index[:, None, :] + base[None, :, None]).reshape(2, -1)
        ff_vec = np.broadcast_to(self.ff_vec, (b,) + self.ff_vec.shape).reshape(-1, 3)
        ion = base[p] + mob
        frame = base[p] + a
        n_self = len(self.self_vec)
        ion_self = np.repeat(base + mob, n_self)
        edge_index = np.concatenate([
            ff,
            np.stack([ion, frame]),            # receiver = ion
            np.stack([frame, ion]),            # receiver = framework atom
            np.stack([ion_self, ion_self]),
        ], axis=1)
        edge_vec = np.concatenate([ff_vec, vec_mf, -vec_mf, np.tile(self.self_vec, (b, 1))])
        species = np.tile(self.species, b)
        return edge_vec, edge_index, species

    def energies(self, points: np.ndarray, max_nodes: int = 4096, progress=None) -> np.ndarray:
        """Total energy (eV, float64) with the mobile ion at each Cartesian point.

        Parameters
        ----------
        points
            ``(P, 3)`` Cartesian positions of the mobile ion (Angstrom).
        max_nodes
            Nodes per model call (replicas per call = ``max_nodes // natoms``, >= 1).
        progress
            Optional callable ``progress(n_done_in_this_call)``.
        """
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        per_call = max(1, int(max_nodes) // self.n_nodes)
        out = np.empty(len(points))
        for start in range(0, len(points), per_call):
            chunk = points[start:start + per_call]
            e = self.runner.per_atom_energies(*self._batch_graph(chunk))
            out[start:start + len(chunk)] = e.reshape(len(chunk), self.n_nodes).sum(axis=1)
            if progress is not None:
                progress(len(chunk))
        return out
