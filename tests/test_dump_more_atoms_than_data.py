"""A dump with more atoms than the data file says why, from a real LAMMPS run.

Was: told 'dump all atoms (..., not a group)' when the data file was another, smaller
system's (a group never holds more atoms), and 'the run lost atoms' when the run had
added one (create_atoms between two runs).
"""

import pytest

from ionmd.analysis.trajectory import read_frames
from ionmd.errors import AnalysisError

RUN = """units metal
atom_style atomic
lattice fcc 4.0
region b block 0 2 0 2 0 2
create_box 1 b
create_atoms 1 box
mass 1 6.94
write_data small.data
replicate 2 1 1
write_data s.data
pair_style zero 3.0
pair_coeff * *
velocity all create 300 1
fix 1 all nve
dump d all custom 5 a.dump id type x y z
run 10
create_atoms 1 single 0.1 0.1 0.1 units box
run 10
"""


def test_more_atoms_than_the_data_file_is_not_a_group_nor_a_loss(tmp_path):
    from lammps_runner import run_lmp

    run_lmp(RUN, tmp_path)
    with pytest.raises(AnalysisError, match=r"64 atoms in the dump, only 32 in the data file, "
                                            r"which is another system's") as refused:
        read_frames(tmp_path / "small.data", [tmp_path / "a.dump"])
    assert "group" not in str(refused.value)
    with pytest.raises(AnalysisError, match=r"65 atoms in the dump at step 15 \(frame 3\), 64 "
                                            r"before .*the run added atoms") as refused:
        read_frames(tmp_path / "s.data", [tmp_path / "a.dump"])
    assert "lost" not in str(refused.value)


def test_a_corrupted_gzip_dump_is_refused_not_a_traceback(tmp_path):
    """Was: zlib.error 'Error -3 while decompressing data' (the deflate data of a gzip'd
    LAMMPS dump damaged after its header); bzip2 and xz were refused already."""
    import gzip

    import numpy as np
    from lammps_runner import run_lmp

    from ionmd.lammps.dump import read_dump

    run_lmp(RUN, tmp_path)
    packed = bytearray(gzip.compress((tmp_path / "a.dump").read_bytes()))
    packed[12:60] = bytes(b ^ 0x5A for b in packed[12:60])
    (tmp_path / "a.dump.gz").write_bytes(bytes(packed))
    with pytest.raises(AnalysisError, match=r"cannot read .*a.dump.gz after frame 0: .*a "
                                            r"corrupted one"):
        read_dump(tmp_path / "a.dump.gz", tmp_path / "s.data", np.arange(1, 65))
