"""Empty trajectory pieces among several are left out (a piece LAMMPS stopped at its setup
writes no frame); compressed ones were recognised by a `.gz` suffix only, unlike the dump
reader, which tells compression by the file's leading bytes: an empty xz or bzip2 piece, or a
gzip one named without `.gz`, was kept and refused the run; a `.gz` piece damaged in its
compressed data raised zlib.error as a traceback before the reader could say so."""

from __future__ import annotations

import bz2
import gzip
import lzma

from ionmd.analysis.trajectory_readers import without_empty_pieces

FRAME = "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n0\n"


def test_empty_compressed_pieces_are_told_by_their_bytes(tmp_path):
    good = tmp_path / "md.0.dump"
    good.write_text(FRAME)
    empty_xz, empty_bz2, empty_gz = (tmp_path / n for n in ("md.1.dump.xz", "md.2.dump.bz2",
                                                             "md.3.dump"))
    empty_xz.write_bytes(lzma.compress(b""))
    empty_bz2.write_bytes(bz2.compress(b""))
    empty_gz.write_bytes(gzip.compress(b""))            # dump custom/gz, named without .gz
    kept, skipped = without_empty_pieces([good, empty_xz, empty_bz2, empty_gz])
    assert kept == [good] and skipped == [empty_xz, empty_bz2, empty_gz]


def test_a_damaged_gzip_piece_is_kept_for_the_reader_to_refuse(tmp_path):
    good = tmp_path / "md.0.dump"
    good.write_text(FRAME)
    packed = bytearray(gzip.compress(FRAME.encode() * 200))
    packed[12:40] = b"\xff" * 28                          # damaged deflate data
    damaged = tmp_path / "md.1.dump.gz"
    damaged.write_bytes(bytes(packed))
    assert without_empty_pieces([good, damaged]) == ([good, damaged], [])
