"""Re-rank the N lowest-Ewald arrangements of a disordered cell by the model's energy
(``--order ewald --order-model-rank N``) and keep the lowest.

The Ewald energy sees point charges only (every Cl/Br arrangement has the same one), and
the one lowest-Ewald arrangement ``--order ewald`` keeps is one point of a spread in
conductivity that can be large between arrangements. As in the MACE study of disordered
SSEs (Li3InxY1-xBryCl6-6y: 2000 symmetry-distinct lowest-Ewald enumerations, their
"static lattice energies" from the fine-tuned model, the lowest kept), each candidate's
energy is a fixed-cell, fixed-position single point of the same model file the run uses,
evaluated in Python through the model-file contract (``batched_energy.ModelRunner``: the
same forward the LAMMPS plugin calls). Candidates come one per symmetry class
(``structures.ordering_candidates``); ties in model energy go to the lower Ewald rank, so
the choice is deterministic (no random numbers are drawn).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ionmd.errors import IonmdError
from ionmd.screen.batched_energy import ModelRunner

MAX_NODES = 4096
"""Atoms per model call: candidates are evaluated as a disjoint union of this many."""


@dataclasses.dataclass
class ModelRanking:
    """The candidates' energies and which one was kept."""

    model: str
    model_sha256: str
    natoms: int
    ewald_energies: list[float]
    """eV, one per candidate, lowest first (Ewald rank = index + 1)."""
    model_energies: list[float]
    """eV, the model's total energy of each candidate (fixed-cell single point)."""
    searched: int
    """Arrangements the candidates were drawn from (symmetry-equivalent ones included)."""
    asked: int
    kept: int | None = None
    """How many of the arrangements searched keep the pair rule (the candidates are their
    classes); None: not recorded (a record of before)."""

    @property
    def chosen_rank(self) -> int:
        """Ewald rank (1 = ``--order ewald``'s choice) of the lowest model energy."""
        return int(np.argmin(self.model_energies)) + 1     # first of equal ones

    def per_atom_meV(self, values) -> np.ndarray:
        return (np.asarray(values, dtype=float) - min(values)) / self.natoms * 1000.0

    @property
    def spread_meV_per_atom(self) -> float:
        """Highest minus lowest model energy across the candidates, meV/atom."""
        return float(self.per_atom_meV(self.model_energies).max())

    @property
    def ewald_choice_above_meV_per_atom(self) -> float:
        """How far the lowest-Ewald arrangement lies above the one kept, meV/atom."""
        return float(self.per_atom_meV(self.model_energies)[0])

    def note(self) -> str:
        """The ordering line's words on the ranking."""
        # the classes are those of the arrangements that keep the pair rule: Li3YCl6's 360
        # hold 30, "15 among the 360" read as if the 360 held 15
        rule = (f", {self.kept} of them keeping the pair rule"
                if self.kept is not None and self.kept < self.searched else "")
        fewer = (f" (only {len(self.model_energies)} symmetry-distinct among the "
                 f"{self.searched} lowest{rule})"
                 if len(self.model_energies) < self.asked else "")
        return (f"re-ranked by {self.model}'s energy (fixed-cell single point) over the "
                f"{len(self.model_energies)} lowest-Ewald arrangements{fewer}: kept Ewald "
                f"rank {self.chosen_rank}, the lowest-Ewald one "
                f"{self.ewald_choice_above_meV_per_atom:.3g} meV/atom above it, spread "
                f"{self.spread_meV_per_atom:.3g} meV/atom")

    @classmethod
    def from_record(cls, record: dict) -> "ModelRanking":
        """The ranking :meth:`record` wrote (energies as recorded: the choice is theirs).

        Raises
        ------
        KeyError, TypeError, ValueError
            Where ``record`` is no such record (a damaged or foreign file)."""
        candidates = record["candidates"]
        return cls(model=str(record["model"]), model_sha256=str(record["model_sha256"]),
                   natoms=int(record["atoms"]),
                   ewald_energies=[float(c["ewald_energy_eV"]) for c in candidates],
                   model_energies=[float(c["model_energy_eV"]) for c in candidates],
                   searched=int(record["arrangements_searched"]),
                   asked=int(record["candidates_asked"]),
                   kept=(None if record.get("arrangements_keeping_pair_rule") is None
                         else int(record["arrangements_keeping_pair_rule"])))

    def record(self) -> dict:
        """What a run's folder keeps of the ranking (JSON)."""
        model_rel = self.per_atom_meV(self.model_energies)
        ewald_rel = self.per_atom_meV(self.ewald_energies)
        return {
            "method": "ewald candidates re-ranked by model energy (fixed-cell single point)",
            "model": self.model, "model_sha256": self.model_sha256, "atoms": self.natoms,
            "candidates_asked": self.asked, "arrangements_searched": self.searched,
            "arrangements_keeping_pair_rule": self.kept,
            "chosen_ewald_rank": self.chosen_rank,
            "spread_meV_per_atom": self.spread_meV_per_atom,
            "ewald_choice_above_chosen_meV_per_atom": self.ewald_choice_above_meV_per_atom,
            "candidates": [
                {"ewald_rank": k + 1, "ewald_energy_eV": e, "model_energy_eV": m,
                 "ewald_meV_per_atom_above_lowest": float(er),
                 "model_meV_per_atom_above_lowest": float(mr)}
                for k, (e, m, er, mr) in enumerate(zip(self.ewald_energies,
                                                       self.model_energies, ewald_rel,
                                                       model_rel))]}


def rank_by_model(loaded, model: str | Path, asked: int, device: str | None = None,
                  runner: ModelRunner | None = None):
    """``loaded`` (a :class:`~ionmd.structures.LoadedStructure` loaded with
    ``OrderOptions(method="ewald", candidates=asked)``) with its structure replaced by the
    candidate of lowest model energy, its ordering line saying so; and the
    :class:`ModelRanking`. A file that needed no ordering comes back as it is (None).
    ``runner``: the model already loaded (the screen's), else ``model`` is loaded on
    ``device`` (default: where an AOTInductor package was compiled for, else the GPU when
    there is one).

    Raises
    ------
    IonmdError
        Where the model cannot be loaded, lacks an element, or gives a non-finite energy.
    """
    if not loaded.candidates:
        return loaded, None
    if runner is None:
        # the metadata's elements before the model is loaded (torch, the file): a model
        # without an element of the cell was refused only after loading it
        _check_elements(model, loaded.structure)
    runner = runner or ModelRunner(model, device=device or _device_for(model))
    structures = [c.structure for c in loaded.candidates]
    energies = structure_energies(runner, structures)
    bad = [c.ewald_rank for c, e in zip(loaded.candidates, energies) if not np.isfinite(e)]
    if bad:
        raise IonmdError(f"{Path(model).name} gives a non-finite energy for the lowest-Ewald "
                         f"arrangement(s) of Ewald rank {bad}: the model cannot rank them; "
                         "drop --order-model-rank or use another model")
    ranking = ModelRanking(
        model=Path(model).name, model_sha256=runner.sha256, natoms=len(structures[0]),
        ewald_energies=[float(c.ewald_energy) for c in loaded.candidates],
        model_energies=[float(e) for e in energies], searched=loaded.candidates_searched,
        asked=asked, kept=loaded.candidates_kept)
    return kept_by_ranking(loaded, ranking), ranking


def kept_by_ranking(loaded, ranking: ModelRanking):
    """``loaded`` holding the candidate ``ranking`` keeps (its ordering line saying so):
    also a ranking read back from its record (:meth:`ModelRanking.from_record`, a
    campaign's cache), so that the cell and its words are those of :func:`rank_by_model`."""
    from ionmd.structures.checks import check_overlaps

    kept = loaded.candidates[ranking.chosen_rank - 1]
    check_overlaps(kept.structure, loaded.name)
    ordering = f"{loaded.ordering}; {ranking.note()}"
    if ranking.chosen_rank != 1 and (kept.close_pairs or loaded.candidates[0].close_pairs):
        # the line's close pairs were the lowest-Ewald arrangement's
        ordering += "; the kept arrangement: " + (
            kept.close_pairs or "no pair closer than the default rule")
    return dataclasses.replace(loaded, structure=kept.structure, ordering=ordering)


def structure_energies(runner: ModelRunner, structures, max_nodes: int = MAX_NODES):
    """The model's total energy (eV) of each pymatgen structure, several per call as one
    disjoint graph (edges from ASE's ``neighbor_list``, x_j - x_i, receiver first: the
    contract's)."""
    from ase.neighborlist import neighbor_list
    from pymatgen.io.ase import AseAtomsAdaptor

    graphs = []
    for s in structures:
        atoms = AseAtomsAdaptor.get_atoms(s.copy().remove_oxidation_states())
        i, j, d = neighbor_list("ijD", atoms, runner.cutoff)
        graphs.append((np.stack([i, j]).astype(np.int64), d.astype(float),
                       runner.species_of(atoms.get_chemical_symbols())))
    out = np.empty(len(graphs))
    start = 0
    while start < len(graphs):
        stop, nodes = start, 0
        while stop < len(graphs) and (stop == start or nodes + len(graphs[stop][2]) <= max_nodes):
            nodes += len(graphs[stop][2])
            stop += 1
        offsets = np.cumsum([0] + [len(g[2]) for g in graphs[start:stop]])
        index = np.concatenate([g[0] + off for g, off in zip(graphs[start:stop], offsets)], axis=1)
        vec = np.concatenate([g[1] for g in graphs[start:stop]])
        species = np.concatenate([g[2] for g in graphs[start:stop]])
        e = runner.per_atom_energies(vec, index, species)
        out[start:stop] = [e[a:b].sum() for a, b in zip(offsets[:-1], offsets[1:])]
        start = stop
    return out


def _check_elements(model: str | Path, structure) -> None:
    """Refuse a model whose metadata lacks an element of ``structure``, in the words of
    ``ModelRunner.species_of``, without loading it."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from ionmd.export.contract import read_metadata

    known = str(read_metadata(Path(model)).get("elements", "")).split()
    # the symbols structure_energies gives the model (an isotope's as ASE writes it)
    atoms = AseAtomsAdaptor.get_atoms(structure.copy().remove_oxidation_states())
    missing = sorted(set(atoms.get_chemical_symbols()) - set(known))
    if known and missing:
        raise IonmdError(f"model {Path(model).name} does not know {', '.join(missing)}; it "
                         f"knows {' '.join(known)}: use a model trained on these elements")


def _device_for(model: str | Path) -> str:
    """Where to evaluate: an AOTInductor package where it was compiled for, else the GPU
    when there is one."""
    from ionmd.export.contract import read_metadata

    meta = read_metadata(Path(model))
    if meta.get("file_format", "torchscript") == "aoti":
        return meta.get("compiled_for", "cpu")
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
