"""Counting site-to-site hops of mobile ions.

A diffusion coefficient from a run in which the ions have hardly left their sites is a
number without meaning: the MSD is then the ions' vibration plus the few hops that
happened, with no statistics. Hops are counted, not estimated from the MSD:

1. Each ion's unwrapped path is averaged over a short running window (``smooth_ps``,
   longer than a vibration period, shorter than a residence time) so that thermal
   rattling about a site does not count.
2. The ion's *anchor* is where it was at the start. Whenever the smoothed position is
   more than ``hop_length`` from the anchor, one hop is counted and the anchor moves to
   where the ion settles: its smoothed position ``window - 1`` frames later, when the
   running mean has passed over the jump (anchoring in mid-jump would count a long jump
   twice).

A jump to a neighbouring site is one hop, a jump back is another; a rattle that never
takes the ion ``hop_length`` away is none. The price of the smoothing: two hops closer
together than about 1.3 windows count as one (2.5 Å jumps, 1.5 Å ``hop_length``: counted
apart from 13 frames at a 10-frame window, 25 at 20, 61 at 50), or as none when the second
takes the ion back within ``hop_length`` / jump of a window (6 frames of 10, 12 of 20, 30 of
50 here: the smoothed excursion stays short of ``hop_length``), and a hop within the
last or first half window may be missed; keep ``smooth_ps`` well below the residence
time. ``hop_length`` should be somewhat shorter than the shortest site-to-site distance
of the conductor (1.5 Å by default; Li sites in oxides, sulfides and halides are
1.6-3.5 Å apart).
"""

from __future__ import annotations

import numpy as np

from ionmd.errors import AnalysisError


def smooth_positions(positions: np.ndarray, window: int) -> np.ndarray:
    """Running mean of positions (T, N, 3) over ``window`` frames (edges: nearest)."""
    if window <= 1:
        return positions
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(positions, size=window, axis=0, mode="nearest")


def count_hops(positions: np.ndarray, hop_length: float, window: int = 1) -> np.ndarray:
    """Number of hops of each ion.

    Parameters
    ----------
    positions : ndarray, shape (T, N, 3)
        Unwrapped positions of the mobile ions, Å.
    hop_length : float
        Distance (Å) from the last anchor beyond which a hop is counted.
    window : int
        Frames of the running mean applied first (1: none).

    Returns
    -------
    ndarray of int, shape (N,)
    """
    if hop_length <= 0:
        raise AnalysisError(f"hop_length must be positive, got {hop_length} A")
    path = smooth_positions(np.asarray(positions, float), window)
    anchor = path[0].copy()
    n_ions = path.shape[1]
    hops = np.zeros(n_ions, dtype=np.int64)
    settles_at = np.full(n_ions, -1)   # frame at which a hopping ion's new anchor is taken
    limit2 = hop_length ** 2
    delay = max(window, 1) - 1
    for t in range(1, len(path)):
        frame = path[t]
        due = settles_at == t
        anchor[due] = frame[due]
        settles_at[due] = -1
        moved = (settles_at < 0) & (np.sum((frame - anchor) ** 2, axis=-1) > limit2)
        hops += moved
        if delay == 0:
            anchor[moved] = frame[moved]
        else:
            settles_at[moved] = t + delay
    return hops
