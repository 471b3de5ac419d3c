"""ionmd demo: export SevenNet-0 from the installed sevenn wheel and run a short NVT of
a Li-halide (rock-salt LiCl, 64 atoms, 600 K) with a plain `lmp -in`.

Run with `make demo`; the run directory is ./demo-run (input, log, trajectory)."""

from __future__ import annotations

import shutil
import string
import subprocess
import sys
from pathlib import Path

from ase.build import bulk
from ase.io import write

from ionmd.export import export_sevennet

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "demo-run"


def main() -> int:
    RUN.mkdir(exist_ok=True)
    model = RUN / "sevennet0.pt"
    if not model.exists():
        print("exporting SevenNet-0 (from the sevenn wheel, no download) ...", flush=True)
        export_sevennet("7net-0", model, dtype="float32")
    subprocess.run([sys.executable, "-m", "ionmd.cli", "inspect", str(model)], check=True)

    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True) * (2, 2, 2)
    elements = ["Li", "Cl"]
    write(RUN / "licl.data", atoms, format="lammps-data", specorder=elements, masses=True)

    template = string.Template((ROOT / "inputs" / "nvt.lmp").read_text())
    (RUN / "in.nvt").write_text(template.substitute(
        data="licl.data", model=model.name, elements=" ".join(elements), temperature=600,
        seed=20241125, timestep=0.001, tdamp=0.1, thermo_every=5, dump_every=10, steps=40))

    lmp = shutil.which("lmp", path=str(Path(sys.executable).parent)) or "lmp"
    print(f"\nrunning: {lmp} -in in.nvt   (in {RUN})\n", flush=True)
    proc = subprocess.run([lmp, "-in", "in.nvt"], cwd=RUN)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
