"""``ionmd bench --max-atoms`` rewrites max_atoms.json after each measured point, so that a
search killed mid-way leaves what it found. Each of those files must say of its points what
the search's final file says of the same points: the largest cell that fits and the line's
budget crossing. Before, the file was written before the point's crossing was drawn: it
lagged one point behind (after two points, no crossing at all).
Reference: the final max_atoms.json of the same search stopped after as many points
(``max_points``), with a stand-in ``run_point`` whose resident set is analytic."""

from __future__ import annotations

import json

from ionmd.bench import BenchPoint


def _peak(n: int) -> float:
    return 230.0 + 2e-4 * n * n          # grows faster than linearly, as in capacity_line


def test_each_file_written_mid_search_says_what_the_final_one_says(monkeypatch, tmp_path):
    import ionmd.bench as bench_module

    seen = []                    # max_atoms.json as each new point starts

    def fake_run_point(model, atoms, ranks, workdir, **kw):
        out = workdir.parent / "max_atoms.json"
        if workdir.parent.name == "search" and out.exists():
            seen.append(json.loads(out.read_text()))
        return BenchPoint(atoms=len(atoms), ranks=ranks, threads=1, steps=0, ms_per_step=None,
                          atom_steps_per_s=None, host_peak_mib_per_rank=_peak(len(atoms)),
                          host_mb_per_atom=_peak(len(atoms)) * 1.048576 / len(atoms))

    monkeypatch.setattr(bench_module, "run_point", fake_run_point)

    def search(out, **kw):
        return bench_module.largest_cell(tmp_path / "m.pt", 300.0, out, start_atoms=(64, 216),
                                         progress=False, **kw)

    res = search(tmp_path / "search")
    assert len(res.points) >= 4 and len(seen) == len(res.points) - 1
    for k, mid in enumerate(seen, start=1):
        search(tmp_path / f"first{k}", max_points=k)
        final = json.loads((tmp_path / f"first{k}" / "max_atoms.json").read_text())
        assert [p["atoms"] for p in mid["points"]] == [p["atoms"] for p in final["points"]]
        assert mid["status"] == "running"
        said = {key: (mid[key], final[key]) for key in ("largest", "predicted_atoms",
                                                       "predicted_from")}
        assert all(a == b for a, b in said.values()), (k, said)
    assert any(mid["predicted_atoms"] for mid in seen)     # a crossing was said mid-way
