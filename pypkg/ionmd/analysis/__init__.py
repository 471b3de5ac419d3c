"""Trajectory analysis: unwrapped trajectories, MSD, diffusion with uncertainty,
Nernst–Einstein conductivity, Arrhenius fits, failure detection and structure functions.

Modules follow the user's path: :mod:`trajectory` (read, stitch, unwrap; :mod:`ase_frames`
reads VASP and ASE trajectories into it) → :mod:`msd` → :mod:`diffusion` →
:mod:`conductivity` → :mod:`arrhenius`, with
:mod:`failure` (post-mortem of a run), :mod:`structure_functions` (van Hove, RDF,
density grid), :mod:`report` (JSON/CSV/PNG) and :mod:`run_dir` (what a run directory holds).
"""

from ionmd.analysis.stitching import stitch
from ionmd.analysis.trajectory import Trajectory, read_lammps_trajectory
from ionmd.analysis.unwrapping import unwrap

__all__ = ["Trajectory", "read_lammps_trajectory", "stitch", "unwrap"]
