"""Shared pieces of the protocol tests: a Morse model in the model-file contract (fast,
with LAMMPS's own `pair_style morse` as an independent twin) and a 32-atom fcc cell."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms
from ase.build import bulk

from contract_models import MorseEdgeModel, save_contract_model

MORSE = dict(d0=0.3, alpha=1.5, r0=2.8, rc=6.0)
ELEMENTS = ["Li", "Cl"]


def morse_model(path: Path) -> Path:
    return save_contract_model(MorseEdgeModel(**MORSE), path, cutoff=MORSE["rc"],
                               elements=ELEMENTS)


def fcc_cell(a: float = 3.68, reps: int = 2) -> Atoms:
    """fcc (the stable lattice of a pair potential) with Li and Cl on alternating sites."""
    atoms = bulk("Cu", "fcc", a=a, cubic=True) * (reps, reps, reps)
    atoms.set_chemical_symbols(["Li", "Cl"] * (len(atoms) // 2))
    return atoms


def short(name: str, **overrides):
    """Preset ``name`` cut to a tiny test run (any field can still be overridden)."""
    from ionmd.protocols import get_protocol

    base = dict(temperatures=(600.0,), duration_ps=1.0, discard_ps=0.1, dump_every=10,
                thermo_every=10, restart_every=100, supercell=None, replicas=1,
                long_below_K=None)
    base.update(overrides)
    return get_protocol(name, **base)
