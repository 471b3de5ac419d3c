"""Check that MACE gives the same energies under ionmd's e3nn (0.6) as under the
e3nn 0.4.4 that mace-torch pins.

ionmd installs mace-torch with ``--no-deps`` because sevenn and fairchem-core need
e3nn >= 0.5. This script builds the same MACE architecture (MACE-MP-0a layout, random
weights) in this interpreter and in another one that has e3nn 0.4.4, gives both the
same *parameters* (buffers such as Clebsch-Gordan tables are left to each e3nn
version, since those are what could differ), and compares energies and forces from
MACE's own calculator on three structures.

Usage::

    python -m venv /tmp/e3nn044 && /tmp/e3nn044/bin/pip install torch==2.13.0 \
        && /tmp/e3nn044/bin/pip install e3nn==0.4.4 mace-torch==0.3.16 ase
    .venv/bin/python examples/check_mace_e3nn.py --other-python /tmp/e3nn044/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
HERE = Path(__file__).resolve()


def build_model(max_L: int, correlation: int, num_interactions: int):
    import numpy as np
    import torch
    from e3nn import o3
    from mace import modules

    torch.set_default_dtype(torch.float64)
    z = [3, 15, 16, 17]
    hidden = o3.Irreps(" + ".join(f"32x{l}{'e' if l % 2 == 0 else 'o'}" for l in range(max_L + 1)))
    block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    return modules.ScaleShiftMACE(
        r_max=5.0, num_bessel=8, num_polynomial_cutoff=5, max_ell=3,
        interaction_cls=block, interaction_cls_first=block, num_interactions=num_interactions,
        num_elements=len(z), hidden_irreps=hidden, MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=-np.arange(1.0, 5.0), avg_num_neighbors=20.0, atomic_numbers=z,
        correlation=correlation, gate=torch.nn.functional.silu,
        atomic_inter_scale=2.0, atomic_inter_shift=0.1,
    )


def structures():
    from ase.build import bulk

    licl = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    licl.rattle(0.1, seed=1)
    li2s = bulk("Li2S", "fluorite", a=5.7)
    li2s.rattle(0.1, seed=2)
    tri = bulk("LiCl", "rocksalt", a=5.14)
    tri.set_cell(tri.cell.array + [[0.1, 0.0, 0.0], [0.2, -0.1, 0.0], [0.0, 0.3, 0.1]],
                 scale_atoms=True)
    tri.rattle(0.1, seed=3)
    return {"licl_8": licl, "li2s_3": li2s, "triclinic_2": tri}


def evaluate(params_file: str, config: list[int]) -> dict:
    import e3nn
    import torch
    from mace.calculators import MACECalculator

    model = build_model(*config)
    params = torch.load(params_file)
    own = dict(model.named_parameters())
    assert set(params) == set(own), "parameter names differ between e3nn versions"
    model.load_state_dict(params, strict=False)   # parameters only: buffers stay native
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.model"
        torch.save(model, path)
        calc = MACECalculator(model_paths=str(path), device="cpu", default_dtype="float64")
        out = {"e3nn": e3nn.__version__}
        for name, atoms in structures().items():
            atoms.calc = calc
            out[name] = {"energy": float(atoms.get_potential_energy()),
                         "forces": atoms.get_forces().tolist()}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)  # the whole docstring: what it needs
    parser.add_argument("--other-python", help="interpreter with e3nn 0.4.4 and mace-torch "
                        "(required; see Usage above for how to build one)")
    parser.add_argument("--worker", nargs=2, metavar=("PARAMS", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(evaluate(args.worker[0], json.loads(args.worker[1]))))
        return 0
    if not args.other_python:
        parser.error("--other-python PYTHON is required: an interpreter with e3nn 0.4.4 and "
                     "mace-torch, built as under Usage above")
    if not os.access(args.other_python, os.X_OK) or not Path(args.other_python).is_file():
        parser.error(f"--other-python {args.other_python}: no such interpreter; build it as "
                     "under Usage above")
    import numpy as np
    import torch

    worst = 0.0
    for config in ([1, 3, 2], [2, 2, 3]):      # (max_L, correlation, interactions)
        torch.manual_seed(7)
        model = build_model(*config)
        with tempfile.TemporaryDirectory() as tmp:
            params = Path(tmp) / "params.pt"
            torch.save({k: v.detach() for k, v in model.named_parameters()}, params)
            mine = evaluate(str(params), config)
            run = subprocess.run(
                [args.other_python, str(HERE), "--worker", str(params), json.dumps(config)],
                capture_output=True, text=True)
            if run.returncode != 0:   # e.g. e3nn or mace-torch missing there
                sys.exit(f"{args.other_python} failed to evaluate MACE (exit {run.returncode}); "
                         f"its last lines:\n{run.stderr[-1500:]}")
            other = json.loads(run.stdout.splitlines()[-1])
        print(f"max_L={config[0]} correlation={config[1]} interactions={config[2]}: "
              f"e3nn {mine['e3nn']} vs e3nn {other['e3nn']}")
        for name in structures():
            de = abs(mine[name]["energy"] - other[name]["energy"])
            df = np.abs(np.array(mine[name]["forces"]) - np.array(other[name]["forces"])).max()
            worst = max(worst, de, df)
            print(f"  {name:12s} E = {mine[name]['energy']:+.10f} eV  |dE| = {de:.1e} eV  "
                  f"max|dF| = {df:.1e} eV/A")
    print(f"largest difference: {worst:.1e}")
    return 0 if worst <= 1e-8 else 1


if __name__ == "__main__":
    sys.exit(main())
