"""An XDATCAR of a VASP NpT run (ISIF = 3, MDALGO = 3) holds a lattice before every frame;
pymatgen's ``Xdatcar.write_file`` (a user's slice or copy of the run) writes the first
lattice only, under fractional positions that are each of their own frame's cell. Read
beside the run's INCAR, such a file was analysed as a constant cell, silently: a
22 %-breathing LJ cell's Li D came out 3 % low. It is now refused, naming the INCAR's
NpT tags and the tool. The same frames as ASE writes them (a lattice per frame) are read.
Reference: pymatgen's own writer and the frames' cells."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from ionmd.analysis import read_ase_trajectory
from ionmd.errors import AnalysisError

INCAR = "IBRION = 0\nPOTIM = 2\nNBLOCK = 1\nTEBEG = 800\nISIF = 3\nMDALGO = 3\n" \
        "LANGEVIN_GAMMA = 10 10\nLANGEVIN_GAMMA_L = 10\n"


def _breathing_frames(n=6):
    rng = np.random.default_rng(1)
    frac = rng.random((8, 3))
    out = []
    for k in range(n):
        frac = frac + rng.normal(0, 0.01, frac.shape)
        cell = np.diag([6.0, 6.0, 6.0]) * (1 + 0.05 * np.sin(k)) + [[0, 0.2 * k / n, 0], [0, 0, 0],
                                                                   [0, 0, 0]]
        out.append(Atoms(["Li", "Cl"] * 4, scaled_positions=frac % 1, cell=cell, pbc=True))
    return out


def test_an_npt_xdatcar_rewritten_with_one_lattice_is_refused(tmp_path):
    from pymatgen.io.vasp.outputs import Xdatcar

    frames = _breathing_frames()
    own, rewritten = tmp_path / "run", tmp_path / "copy"
    for d in (own, rewritten):
        d.mkdir()
        (d / "INCAR").write_text(INCAR)
    write(own / "XDATCAR", frames, format="vasp-xdatcar")            # a lattice per frame
    Xdatcar(str(own / "XDATCAR")).write_file(str(rewritten / "XDATCAR"))
    assert (rewritten / "XDATCAR").read_text().count("1.0\n") == 1        # one lattice left
    traj = read_ase_trajectory(own / "XDATCAR")
    np.testing.assert_allclose(traj.boxes, [a.cell.array for a in frames], atol=1e-5)
    with pytest.raises(AnalysisError, match=r"holds one cell for all its 6 frames.*ISIF = 3, "
                                            r"MDALGO = 3.*pymatgen's Xdatcar.write_file"):
        read_ase_trajectory(rewritten / "XDATCAR")
    (rewritten / "INCAR").write_text(INCAR.replace("ISIF = 3", "ISIF = 2"))   # NVT: one cell
    assert read_ase_trajectory(rewritten / "XDATCAR").n_frames == 6
