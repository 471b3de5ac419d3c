"""PES-descriptor screening (Maevskiy et al.): one mobile ion scanned over a grid in a
frozen framework, the level map, minimal percolation energy, free volumes and Xi.

Modules: ``grid`` (grid and excluded points), ``level_map`` (minimax paths),
``descriptors`` (MPE, FV, Xi, aggregation over ions), ``batched_energy`` (the model
file evaluated on many grid points per call), ``screen`` (one structure end to end),
``output`` (tables and CUBE files).
"""

from ionmd.screen.descriptors import (DEFAULT_THRESHOLDS, Descriptors, IonLandscape, aggregate,
                                      ion_landscape, xi)
from ionmd.screen.grid import allowed_masks, grid_shape

__all__ = ["DEFAULT_THRESHOLDS", "Descriptors", "IonLandscape", "aggregate", "allowed_masks",
           "grid_shape", "ion_landscape", "xi"]
