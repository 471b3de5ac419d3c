"""A compressed dump damaged in the middle (a flipped run of bytes, as a bad copy or disk
leaves it): the decompressor hands out text up to its next checksum, which read as "frame
15 has atom lines with other than 5 columns" or "not a LAMMPS dump file". The reader now
says the compressed data is damaged, in which frame, and how many whole frames before it
are readable. References: Python's own bz2, zlib and lzma decompressors on the same bytes
(their error, and where their output first differs from the text that was packed)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import zlib

import numpy as np
import pytest

from ionmd.errors import AnalysisError
from ionmd.lammps.dump import read_dump

N_ATOMS, N_FRAMES = 200, 60

#: name -> (pack, a fresh incremental decompressor, the whole-file opener)
PACKERS = {"bz2": (lambda b: bz2.compress(b, 1), bz2.BZ2Decompressor, bz2.open),
           "gzip": (gzip.compress, lambda: zlib.decompressobj(31), gzip.open),
           "xz": (lambda b: lzma.compress(b, preset=0), lzma.LZMADecompressor, lzma.open)}


@pytest.fixture(scope="module")
def plain() -> bytes:
    rng = np.random.default_rng(0)
    out = []
    for t in range(N_FRAMES):
        out.append(f"ITEM: TIMESTEP\n{10 * t}\nITEM: NUMBER OF ATOMS\n{N_ATOMS}\n"
                   f"ITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n0 10\nITEM: ATOMS id type x y z\n")
        out += [f"{i + 1} 1 {x:.6f} {y:.6f} {z:.6f}\n"
                for i, (x, y, z) in enumerate(rng.uniform(0, 10, (N_ATOMS, 3)))]
    return "".join(out).encode()


def _whole_frames_before_damage(packed: bytes, plain: bytes, decompressor) -> int:
    """Frames whose text the library hands out intact before its output first differs
    from ``plain`` (or stops)."""
    got = b""
    try:
        for i in range(0, len(packed), 64):
            got += decompressor.decompress(packed[i:i + 64])
    except (OSError, zlib.error, lzma.LZMAError):
        pass
    a = np.frombuffer(got, np.uint8)
    differ = np.flatnonzero(a != np.frombuffer(plain[:len(got)], np.uint8))
    first_bad = int(differ[0]) if differ.size else len(got)
    starts = [m.start() for m in re.finditer(rb"ITEM: TIMESTEP", plain)]
    return sum(s <= first_bad for s in starts[1:])


@pytest.mark.parametrize("kind", sorted(PACKERS))
def test_damaged_compressed_dump_names_the_frame_and_the_library_error(kind, plain, tmp_path):
    pack, decompressor, opener = PACKERS[kind]
    packed = bytearray(pack(plain))
    middle = len(packed) // 2
    packed[middle:middle + 8] = bytes(b ^ 0x5A for b in packed[middle:middle + 8])
    path = tmp_path / f"md.dump.{kind}"
    path.write_bytes(bytes(packed))
    with pytest.raises(Exception) as library:   # the standard library's verdict
        with opener(path, "rb") as fh:
            fh.read()
    good = _whole_frames_before_damage(bytes(packed), plain, decompressor())
    assert 0 < good < N_FRAMES - 1
    with pytest.raises(AnalysisError) as ours:
        read_dump(path, tmp_path / "md.data", np.arange(1, N_ATOMS + 1))
    message = str(ours.value)
    assert f"after frame {good}: the file is a corrupted one, its {kind} data damaged in " \
           f"frame {good} (after step {10 * (good - 1)})" in message
    assert str(library.value) in message
    assert f"the {good} whole frames before it are readable" in message


def test_intact_compressed_file_that_is_no_dump_is_still_said_so(tmp_path):
    path = tmp_path / "notes.bz2"
    path.write_bytes(bz2.compress(b"hello\n"))
    with pytest.raises(AnalysisError, match="is not a LAMMPS dump file"):
        read_dump(path, tmp_path / "md.data", np.arange(1, 3))
