"""Trajectory analysis: unwrapped trajectories, MSD, diffusion with uncertainty,
Nernst–Einstein conductivity, Arrhenius fits, failure detection and structure functions.

Modules follow the user's path: :mod:`trajectory` (read, stitch, unwrap:
``read_lammps_trajectory``; :mod:`ase_frames` reads VASP and ASE trajectories into it:
``read_ase_trajectory``) → :mod:`msd` (``compute_msd``) → :mod:`diffusion` (``diffusion``)
→ :mod:`conductivity` → :mod:`arrhenius` (``fit_arrhenius``), with
:mod:`failure` (post-mortem of a run), :mod:`structure_functions` (van Hove, RDF,
density grid), :mod:`report` (JSON/CSV/PNG), :mod:`run_spec` (what a run directory holds:
``load_run_spec``) and :mod:`run_analysis` (one run directory end to end, as ``ionmd
analyze``: ``analyze_run``).
"""

from ionmd.analysis.ase_frames import read_ase_trajectory
from ionmd.analysis.stitching import stitch
from ionmd.analysis.trajectory import Trajectory, read_lammps_trajectory
from ionmd.analysis.unwrapping import unwrap

__all__ = ["Trajectory", "read_ase_trajectory", "read_lammps_trajectory", "stitch", "unwrap"]
