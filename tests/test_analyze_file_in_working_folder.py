"""`ionmd analyze md.extxyz` run in the trajectory's own folder (a user in a VASP or ASE
run's folder points at its file) printed the run without a name (a blank first column)
and recorded it as "." in summary.json, which says nothing once the summary is read
elsewhere: a file given in place of its folder, in the working folder, is named by that
folder, as `ionmd analyze .` is.

Reference: the folder's own name.
"""

from __future__ import annotations

import json

import numpy as np
from ase.build import bulk
from ase.io import write

from ionmd.cli import main


def test_a_trajectory_file_in_the_working_folder_is_named_by_its_folder(tmp_path, monkeypatch,
                                                                        capsys):
    folder = tmp_path / "licl_600K"
    folder.mkdir()
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(6):
        atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
        atoms.positions += 0.05 * rng.standard_normal(atoms.positions.shape)
        frames.append(atoms)
    write(folder / "md.extxyz", frames, format="extxyz")
    monkeypatch.chdir(folder)
    assert main(["analyze", "md.extxyz", "--temperature", "600", "--timestep-fs", "1",
                 "--dump-every", "10", "--charges", "Li=1,Cl=-1", "--failures-only"]) in (0, None)
    table = capsys.readouterr().out.split("\nrun ")[1].splitlines()
    assert table[1].split()[0] == "licl_600K"
    summary = json.loads((folder / "analysis" / "summary.json").read_text())
    assert [r["run"].rsplit("/", 1)[-1] for r in summary["runs"]] == ["licl_600K"]
