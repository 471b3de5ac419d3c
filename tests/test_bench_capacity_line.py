"""``ionmd bench --max-atoms``: the line it reports meeting the budget is drawn through the
cells nearest the budget, not the first two of the search."""

from __future__ import annotations

import math

from ionmd.bench import BenchPoint


def test_reported_crossing_comes_from_the_cells_around_the_budget(monkeypatch, tmp_path):
    """A resident set that grows faster than linearly (as the memory mode switches do):
    the first two cells' line overshoots the budget's crossing by 2x. The crossing the
    summary and max_atoms.json report must be that of the line through the two measured
    cells that bracket the budget (here within the bracket, which holds the analytic
    crossing), and name those cells. (Before, it stayed at the first two cells' 1,300
    atoms while the search ended near 590.)"""
    import ionmd.bench as bench_module

    def peak(n):
        return 230.0 + 2e-4 * n * n

    def fake_run_point(model, atoms, ranks, workdir, **kw):
        return BenchPoint(atoms=len(atoms), ranks=ranks, threads=1, steps=0, ms_per_step=None,
                          atom_steps_per_s=None, host_peak_mib_per_rank=peak(len(atoms)),
                          host_mb_per_atom=peak(len(atoms)) * 1.048576 / len(atoms))

    monkeypatch.setattr(bench_module, "run_point", fake_run_point)
    budget = 300.0
    res = bench_module.largest_cell(tmp_path / "m.pt", budget, tmp_path, start_atoms=(64, 216),
                                    progress=False)
    crossing = math.sqrt((budget - 230.0) / 2e-4)          # 591.6 atoms
    lo = res.largest.atoms
    hi = min(p.atoms for p in res.points if peak(p.atoms) > budget and p.atoms > lo)
    assert lo <= crossing <= hi
    assert res.predicted_from == [lo, hi]
    assert lo <= res.predicted_atoms <= hi
    a, b = lo, hi
    expected = a + (budget - peak(a)) * (b - a) / (peak(b) - peak(a))
    assert abs(res.predicted_atoms - expected) <= 1
    assert (f"the line through the cells of {lo} and {hi} atoms reaches the budget at about "
            f"{res.predicted_atoms} atoms") in res.summary()
