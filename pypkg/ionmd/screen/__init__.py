"""PES-descriptor screening (Maevskiy et al.): one mobile ion scanned over a grid in a
frozen framework, the level map, minimal percolation energy, free volumes and Xi.

Modules: ``grid`` (grid and excluded points), ``level_map`` (minimax paths),
``descriptors`` (MPE, FV, Xi, aggregation over ions), ``batched_energy`` (the model
file evaluated on many grid points per call), ``symmetry`` (orbits of (ion, point)
pairs), ``screen`` (one structure end to end), ``output`` (tables, CUBE, PNG, campaign),
``campaign_choice`` (which rows ``--top`` sends to MD: duplicates left out, narrow cells
marked), ``batch`` (many files into one output folder, resumable: ``ionmd screen``),
``batch_inputs`` (its files read, keyed and named).
Names below are imported on first use, so ``ionmd``'s command line stays quick to start.
"""

from ionmd._lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "DEFAULT_THRESHOLDS": "descriptors", "Descriptors": "descriptors",
    "IonLandscape": "descriptors", "aggregate": "descriptors", "ion_landscape": "descriptors",
    "xi": "descriptors", "allowed_masks": "grid", "grid_shape": "grid",
    "ModelRunner": "batched_energy", "FrameworkScan": "batched_energy",
    "ScreenSettings": "screen", "screen_structure": "screen", "choose_cell": "screen",
    "plan_screen": "screen", "ScreenPlan": "screen",
    "ScreenBatch": "batch", "read_screen_inputs": "batch_inputs",
})
