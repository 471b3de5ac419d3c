"""A damaged gzip dump whose text goes wrong at frame k (deflate's data still unpacks; only
gzip's checksum at the stream's end tells) is refused once the library's verdict on the
rest of the stream is in. That verdict used to be had by unpacking the file again from its
start: the first k frames twice (2.0 s of a 6.3 s refusal of a 170 MB dump damaged half-way).
Now the stream is read on from where the frames' reading stopped: each byte once.

Reference: Python's gzip module's own verdict on the damaged file, and the text LAMMPS
wrote."""

from __future__ import annotations

import builtins
import gzip
import io

import numpy as np
import pytest

from ionmd.errors import AnalysisError
from ionmd.lammps.dump import read_dump
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

DAMAGED_FRAME = 30

RUN = two_type_lj_cell("fcc 4.4") + """velocity all create 1500 1
write_data s.data
timestep 0.002
fix 1 all nvt temp 1500 1500 0.1
dump d all custom 10 t.dump id type x y z
run 400
"""


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """The run's dump, gzipped in stored (uncompressed) deflate blocks, with frame
    ``DAMAGED_FRAME``'s 'ITEM: TIMESTEP' garbled: deflate unpacks it as it is, only the
    gzip checksum fails."""
    workdir = tmp_path_factory.mktemp("damaged_gzip")
    run_lmp(RUN, workdir, env={"OMP_NUM_THREADS": "1"})
    text = (workdir / "t.dump").read_bytes()
    packed = bytearray(gzip.compress(text, compresslevel=0))
    at = [i for i in range(len(text)) if text.startswith(b"ITEM: TIMESTEP", i)][DAMAGED_FRAME]
    garbled = packed.find(text[at:at + 4096])        # stored blocks hold the text as is
    assert garbled > 0
    packed[garbled + 3] ^= 0x20                     # 'ITEM' -> 'ITEm'
    path = workdir / "t.dump.gz"
    path.write_bytes(bytes(packed))
    return workdir, path, len(text)


def _ids(workdir):
    """create_atoms numbers the 108 atoms from 1."""
    return np.arange(1, 109)


def test_the_damage_is_refused_in_its_frame_with_gzips_verdict(damaged):
    workdir, path, _ = damaged
    with pytest.raises(gzip.BadGzipFile) as reference:
        gzip.decompress(path.read_bytes())
    with pytest.raises(AnalysisError) as refused:
        read_dump(path, workdir / "s.data", _ids(workdir))
    message = str(refused.value)
    assert f"damaged in frame {DAMAGED_FRAME} " in message
    assert str(reference.value) in message


class _CountingFile(io.FileIO):
    """A file that counts the bytes read from it (what the gzip module unpacks)."""

    read_bytes = 0

    def readinto(self, buffer):
        n = super().readinto(buffer)
        _CountingFile.read_bytes += n or 0
        return n


def test_the_file_is_read_once(damaged, monkeypatch):
    """The bytes read from the damaged file, all opens together (its leading bytes read
    for the compression too): about its size (before, 2.06 x: the check unpacked the
    whole file again)."""
    workdir, path, _ = damaged
    real_open = builtins.open

    def counting_open(file, mode="r", *args, **kwargs):
        if str(file) == str(path) and mode == "rb":
            return io.BufferedReader(_CountingFile(file, "rb"))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    _CountingFile.read_bytes = 0
    with pytest.raises(AnalysisError, match=f"damaged in frame {DAMAGED_FRAME} "):
        read_dump(path, workdir / "s.data", _ids(workdir))
    size = path.stat().st_size
    assert size <= _CountingFile.read_bytes < 1.2 * size
