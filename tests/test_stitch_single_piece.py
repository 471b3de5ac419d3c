"""``stitch`` of one piece that drops no frame (a run that was never resumed: most runs)
hands its arrays on as they are. Before, it copied them twice (a boolean mask, then
``np.concatenate`` of the one piece): a trajectory's positions held three times at the
peak. Values are compared with the piece given; the peak is measured with tracemalloc
(numpy reports its allocations to it)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from ionmd.analysis.stitching import stitch
from ionmd.analysis.unwrapping import Piece

N_FRAMES, N_ATOMS, EVERY = 400, 2000, 10


def _piece(first_step: int = 0, n_frames: int = N_FRAMES, origins: bool = True) -> Piece:
    rng = np.random.default_rng(first_step)
    box = np.diag([12.0, 13.0, 14.0])
    return Piece(rng.uniform(0, 12, (n_frames, N_ATOMS, 3)), np.repeat(box[None], n_frames, 0),
                 first_step + EVERY * np.arange(n_frames),
                 origins=rng.uniform(-1, 0, (n_frames, 3)) if origins else None)


@pytest.mark.parametrize("origins", [True, False], ids=["dump_origins", "dcd"])
def test_one_piece_is_stitched_into_the_same_values(origins):
    piece = _piece(origins=origins)
    out = stitch([piece])
    np.testing.assert_array_equal(out.positions, piece.positions)
    np.testing.assert_array_equal(out.boxes, piece.boxes)
    np.testing.assert_array_equal(out.steps, piece.steps)
    np.testing.assert_array_equal(out.origins, piece.origins if origins
                                  else np.zeros((N_FRAMES, 3)))
    assert out.starts == (0,) and out.seam_shifts == ()


def test_one_piece_is_not_copied():
    """Peak of new memory while stitching below a tenth of the positions (old: 2 copies,
    ~2x their size, at the peak)."""
    piece = _piece()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        stitch([piece])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.1 * piece.positions.nbytes, (peak, piece.positions.nbytes)


def test_two_pieces_still_drop_the_repeated_frame():
    """A resumed run (its restart frame written again): the second copy dropped, as
    numpy's own concatenation of the frames kept says."""
    first = _piece(0, 100)
    second = _piece(EVERY * 99, 50)
    second.positions[0] = first.positions[-1]           # the restart's state, written twice
    out = stitch([first, second])
    np.testing.assert_array_equal(out.positions,
                                  np.concatenate([first.positions, second.positions[1:]]))
    np.testing.assert_array_equal(out.steps, EVERY * np.arange(149))
    np.testing.assert_array_equal(out.origins,
                                  np.concatenate([first.origins, second.origins[1:]]))
