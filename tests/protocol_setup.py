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


def sheared(atoms: Atoms) -> Atoms:
    """``atoms`` with its cell tilted (xy 0.04): a triclinic LAMMPS box."""
    import numpy as np

    atoms = atoms.copy()
    atoms.set_cell(atoms.cell.array @ np.array([[1, 0, 0], [0.04, 1, 0], [0, 0, 1]]).T,
                   scale_atoms=True)
    return atoms


def short(name: str, **overrides):
    """Preset ``name`` cut to a tiny test run (any field can still be overridden)."""
    from ionmd.protocols import get_protocol

    base = dict(temperatures=(600.0,), duration_ps=1.0, discard_ps=0.1, dump_every=10,
                thermo_every=10, restart_every=100, supercell=None, replicas=1,
                long_below_K=None)
    base.update(overrides)
    return get_protocol(name, **base)


# a toy superionic conductor: Li bound weakly (Morse, 0.02 eV, and a Born-Mayer hard core
# that keeps every pair apart) in a rock-salt LiCl whose Cl
# lattice is frozen by the input template (fix setforce), so that Li diffuses fast while
# the framework cannot melt; elements in model order Li, Cl
SUPERIONIC = dict(d0=[[0.01, 0.02], [0.02, 0.5]], r0=[[3.6, 2.6], [2.6, 3.6]], alpha=1.5,
                  rc=6.0, wall_A=1000.0, wall_rho=0.2)


def superionic_model(path: Path) -> Path:
    from contract_models import PairMorseEdgeModel

    return save_contract_model(PairMorseEdgeModel(**SUPERIONIC), path, cutoff=SUPERIONIC["rc"],
                               elements=ELEMENTS)


def rocksalt_cell(a: float = 5.1, reps: int = 2) -> Atoms:
    """Rock-salt LiCl (Li on the octahedral sites of the Cl fcc lattice)."""
    return bulk("LiCl", "rocksalt", a=a, cubic=True) * (reps, reps, reps)


def frozen_framework_template(path: Path) -> Path:
    """The md template with the Cl atoms (type 2) held still: a user template."""
    from ionmd.protocols.md_input import INPUTS

    text = (INPUTS / "md.lmp").read_text().replace(
        "$ensemble", "$ensemble\ngroup           cl type 2\nvelocity        cl set 0 0 0\n"
                     "fix             freeze cl setforce 0.0 0.0 0.0")
    path.write_text(text)
    return path


def killed_then_resumed_template(path: Path, killed_at: int, resumed: str) -> str:
    """The md template whose first piece ends itself at step ``killed_at`` without
    finishing (as a killed run: its restarts before, its rows beyond them), and whose
    resumed pieces run the LAMMPS lines ``resumed`` before their run."""
    from ionmd.protocols.md_input import INPUTS

    text = (INPUTS / "md.lmp").read_text().replace(
        "run             $steps upto",
        f'if "$$(step) == 0" then "run {killed_at}" "quit 1"\n{resumed}\n'
        "run             $steps upto")
    path.write_text(text)
    return str(path)


def superionic_folder(folder: Path) -> Path:
    """A campaign folder with the toy superionic conductor: ``licl.pt`` (model),
    ``frozen.lmp`` (template) and ``licl.cif`` (64-atom rock salt)."""
    folder.mkdir(parents=True, exist_ok=True)
    superionic_model(folder / "licl.pt")
    frozen_framework_template(folder / "frozen.lmp")
    rocksalt_cell().write(folder / "licl.cif")
    return folder


# the MD's run line of the md template, and what replaces it: the MD, then a quench whose
# minimisation pushes atom 1 out through a fixed z face (lost atoms)
MD_RUN_LINE = "run             $steps upto start 0 stop $steps\n"
QUENCH = (MD_RUN_LINE
          + "change_box      all boundary p p f\ngroup           kick id 1\n"
          "fix             push kick addforce 0 0 -50\nfix_modify      push energy yes\n"
          "min_modify      dmax 0.02\nminimize        0 0 100 1000\n")


def run_quench_losing_atoms(folder: Path):
    """One short conductivity run (fcc cell, Morse model) of the md template followed by
    :data:`QUENCH`, executed for real: its run directory, status and first log's text."""
    from ionmd.protocols import execute, plan_runs
    from ionmd.protocols.md_input import INPUTS

    text = (INPUTS / "md.lmp").read_text()
    assert MD_RUN_LINE in text, "the md template's run line changed: update MD_RUN_LINE"
    template = folder / "quench.lmp"
    template.write_text(text.replace(MD_RUN_LINE, QUENCH))
    proto = short("conductivity", temperatures=(600.0,), duration_ps=0.05, discard_ps=0.0,
                  template=str(template))
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(folder / "morse.pt"), folder / "out",
                      name="fcc")
    status = execute(rd)
    return rd, status, (rd.path / "log.0.lammps").read_text()
