"""Level-map PNGs keep the cell's shape: a slice of a skewed cell is drawn in Cartesian
coordinates with equal aspect (it was drawn on square axes of grid steps, so a hexagonal
ab plane, 120 degrees, came out square and its channels bent). Checked against the
lattice parameters: the mesh handed to matplotlib spans 2 cells along each lattice vector
of the slice, at the angle between them, and the axes' data limits are that
parallelogram's."""

from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib.axes
import numpy as np
import pytest
from ase.geometry import cellpar_to_cell

from ionmd.screen.descriptors import ion_landscape

PARS = {"hexagonal": (4.3, 4.3, 6.1, 90, 90, 120),
        "monoclinic": (5.2, 3.9, 6.7, 90, 104.5, 90)}


def fake_result(cellpar, grid=(8, 8, 12)):
    """What write_lm_png reads of a screen result: the cell and one ion's level map, here of
    a smooth periodic landscape with its minimum at the grid origin."""
    cell = cellpar_to_cell(cellpar)
    frac = np.stack(np.meshgrid(*(np.arange(n) / n for n in grid), indexing="ij"), axis=-1)
    pes = 0.4 * (3 - np.cos(2 * np.pi * frac).sum(axis=-1))
    land = ion_landscape(pes, cell, "sqrt3", site=np.zeros(3))
    return SimpleNamespace(atoms=SimpleNamespace(cell=SimpleNamespace(array=cell)),
                           landscapes=[land], descriptors=SimpleNamespace(mpe=land.mpe))


def angle(u, v) -> float:
    return math.degrees(math.acos(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))))


@pytest.mark.parametrize("name", sorted(PARS))
def test_slices_are_drawn_with_the_cells_lengths_and_angles(name, tmp_path, monkeypatch):
    from ionmd.screen.output import write_lm_png

    a, b, c, alpha, beta, gamma = PARS[name]
    drawn, real = [], matplotlib.axes.Axes.pcolormesh

    def spy(ax, x, y, data, **kw):
        drawn.append((ax, np.asarray(x), np.asarray(y), np.asarray(data)))
        return real(ax, x, y, data, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "pcolormesh", spy)
    result = fake_result(PARS[name])
    assert write_lm_png(tmp_path, name, result).is_file()
    drawn = [d for d in drawn if d[0].get_label() != "<colorbar>"]
    assert len(drawn) == 3
    # slices normal to a, b, c: planes bc, ac, ab, their lattice lengths and angle
    planes = [((b, c), alpha), ((a, c), beta), ((a, b), gamma)]
    for (ax, x, y, data), ((first, second), between) in zip(drawn, planes):
        assert x.shape == y.shape == (data.shape[0] + 1, data.shape[1] + 1)
        along_first = np.array([x[-1, 0] - x[0, 0], y[-1, 0] - y[0, 0]])
        along_second = np.array([x[0, -1] - x[0, 0], y[0, -1] - y[0, 0]])
        assert np.linalg.norm(along_first) == pytest.approx(2 * first, rel=1e-9)
        assert np.linalg.norm(along_second) == pytest.approx(2 * second, rel=1e-9)
        assert angle(along_first, along_second) == pytest.approx(between, abs=1e-9)
        assert ax.get_aspect() == 1.0
        # the axes hold the parallelogram: width 2(l1 + l2 |cos|), height 2 l2 sin
        cos, sin = math.cos(math.radians(between)), math.sin(math.radians(between))
        lim = ax.dataLim
        assert lim.width == pytest.approx(2 * (first + second * abs(cos)), rel=1e-9)
        assert lim.height == pytest.approx(2 * second * sin, rel=1e-9)


def test_the_minimum_is_drawn_at_the_origin(tmp_path, monkeypatch):
    """The point drawn at (0, 0) is the level map's minimum (0 eV): the cell around the
    mesh origin holds value 0, in every slice."""
    from ionmd.screen.output import write_lm_png

    drawn, real = [], matplotlib.axes.Axes.pcolormesh
    monkeypatch.setattr(matplotlib.axes.Axes, "pcolormesh",
                        lambda ax, x, y, data, **kw: drawn.append((ax, x, y, data)) or
                        real(ax, x, y, data, **kw))
    write_lm_png(tmp_path, "hex", fake_result(PARS["hexagonal"]))
    drawn = [d[1:] for d in drawn if d[0].get_label() != "<colorbar>"]
    assert len(drawn) == 3
    for x, y, data in drawn:
        centre_x = (x[:-1, :-1] + x[1:, 1:]) / 2        # centres of the parallelograms
        centre_y = (y[:-1, :-1] + y[1:, 1:]) / 2
        i, j = np.unravel_index(np.argmin(np.hypot(centre_x, centre_y)), data.shape)
        assert np.hypot(centre_x[i, j], centre_y[i, j]) < 1e-9
        assert data[i, j] == 0.0
