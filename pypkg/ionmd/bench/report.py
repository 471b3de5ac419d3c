"""``ionmd bench``'s outputs: the text table, ``bench.csv`` and ``bench.png``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ionmd.bench.points import BenchPoint, BenchResult


COLUMNS = [("atoms", "atoms", "{:d}"), ("ranks", "ranks", "{:d}"),
           ("threads", "threads", "{:d}"), ("ghost", "ghost", "{}"),
           ("memory", "memory", "{}"),
           ("ms_per_step", "ms/step", "{:.1f}"),
           ("atom_steps_per_s", "atom-steps/s", "{:.1f}"),
           ("host_peak_mib_per_rank", "host MiB/rank", "{:.0f}"),
           ("host_mb_per_atom", "MB/atom", "{:.2f}"),
           ("gpu_peak_mib_per_rank", "GPU MiB/rank", "{:.0f}"),
           ("gpu_mb_per_atom", "GPU MB/atom", "{:.2f}"),
           ("strong_efficiency", "strong eff", "{:.2f}"), ("weak_efficiency", "weak eff", "{:.2f}"),
           ("cpu_use", "CPU use", "{:.2f}"), ("strong_cpu_efficiency", "CPU-time eff", "{:.2f}")]

TABLE_KEY = ("ms/step: LAMMPS's loop time of the timed run / its steps (after one warm-up force "
             "call); atom-steps/s: atoms / (s/step); host MiB/rank: peak resident set of a rank "
             "(max over ranks; 1 MiB = 2^20 B); MB/atom: that peak x ranks / atoms (1 MB = 1e6 "
             "B), the fixed footprint of libtorch, the model and LAMMPS included, so small cells "
             "show a large value: for the largest cell a budget holds use --max-atoms; CPU use: "
             "LAMMPS's % CPU use / 100 of a rank (up to its threads; below that, the rank "
             "waited or shared a core); strong/weak eff: against the serial run of the same "
             "size (weak: of atoms / ranks) and memory mode")


def table(result: BenchResult) -> str:
    """The points as a fixed-width text table, with a heading that says what ran where and a
    key to the columns."""
    rows = [[title for _, title, _ in COLUMNS]]
    for p in result.points:
        d = asdict(p)
        rows.append(["-" if d[k] is None else fmt.format(d[k]) for k, _, fmt in COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    used = sorted({p.device_used for p in result.points if p.device_used})
    device = result.device + (f" (ran on {', '.join(used)})" if used and used != [result.device]
                              else "")
    head = (f"{result.model} on {result.structure}, device {device}, ghost {result.ghost}"
            + (f", {result.cores} core(s)" if result.cores else "")
            + ("" if result.status in ("finished", "running") else f" [{result.status}]"))
    failed = [f"failed: {p.atoms} atoms x {p.ranks} ranks, ghost {p.ghost}: {p.failed}"
              for p in result.points if p.failed]
    notes = [f"warning: {n}" for n in result.notes]
    import textwrap

    key = textwrap.wrap(TABLE_KEY, 100, break_on_hyphens=False)
    return "\n".join([head] + lines + failed + notes + key)


def write_csv(result: BenchResult, path: Path) -> None:
    import csv

    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(result.points[0]).keys()))
        writer.writeheader()
        for p in result.points:
            writer.writerow(asdict(p))


def plot_series(result: BenchResult) -> list[tuple[str, list[BenchPoint]]]:
    """The plot's lines: one per size, ghost mode and memory mode, each from its serial
    point (a ghost comparison's serial points run in ``auto``), in rank order."""
    done = [p for p in result.points if p.failed is None]
    modes = sorted({p.ghost for p in done if p.ranks > 1}) or ["auto"]
    memories = sorted({p.memory for p in done})
    series = []
    for n in sorted({p.atoms for p in done}):
        for mode in modes:
            for mem in memories:
                pts = sorted((p for p in done if p.atoms == n and p.memory == mem
                              and (p.ranks == 1 or p.ghost == mode)), key=lambda p: p.ranks)
                if not pts:
                    continue
                label = (f"{n} atoms" + (f", {mode}" if len(modes) > 1 else "")
                         + (f", memory {mem}" if len(memories) > 1 else ""))
                series.append((label, pts))
    return series


def plot(result: BenchResult, path: Path) -> None:
    """Throughput and strong-scaling efficiency against ranks, one line per size (and ghost
    and memory mode)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for label, pts in plot_series(result):
        ax1.plot([p.ranks for p in pts], [p.atom_steps_per_s for p in pts], "o-", label=label)
        eff = [(p.ranks, p.strong_efficiency) for p in pts if p.strong_efficiency is not None]
        if eff:
            ax2.plot(*zip(*eff), "o-", label=label)
    ranks = sorted({p.ranks for p in result.points if p.failed is None})
    threads = sorted({p.threads for p in result.points})
    ax1.set(xlabel="MPI ranks", ylabel="atom-steps / s", title="throughput")
    ax2.set(xlabel="MPI ranks", ylabel="t(1) / (p t(p))", title="strong scaling", ylim=(0, 1.1))
    for ax in (ax1, ax2):
        ax.set_xticks(ranks)            # rank counts are integers: no 1.2, 1.4 ticks
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(f"{Path(result.model).name} on {result.structure}, ghost {result.ghost}, "
                 f"{'/'.join(map(str, threads))} thread(s) per rank", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
