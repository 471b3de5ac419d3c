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

import ionmd.lammps.dump as dump_module
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
    if kind == "gzip":   # checked only at the end: see the tests below
        assert f"the {good} whole frames before it read as a dump, but gzip checks its " \
               f"data only at the end of the stream, so they may hold damaged numbers" in message
    else:
        assert f"the {good} whole frames before it are readable" in message


def test_intact_compressed_file_that_is_no_dump_is_still_said_so(tmp_path):
    path = tmp_path / "notes.bz2"
    path.write_bytes(bz2.compress(b"hello\n"))
    with pytest.raises(AnalysisError, match="is not a LAMMPS dump file"):
        read_dump(path, tmp_path / "md.data", np.arange(1, 3))


def _shape(line: bytes) -> bytes:
    """A line with its digits blotted out: what a parser of the dump can tell."""
    return re.sub(rb"\d", b"0", line)


def _coordinates_only(line: bytes, plain_line: bytes) -> bool:
    """Whether a damaged atom line still reads as one, with the same id and type: only
    its coordinates changed (their digits, or where a number ends)."""
    a, b = line.split(), plain_line.split()
    return (len(a) == len(b) == 5 and a[:2] == b[:2] and line.endswith(b"\n")
            and all(re.fullmatch(rb"-?\d+\.\d*", w) for w in a[2:]))


def _gzip_flip(plain: bytes, wanted: str) -> tuple[bytes, int]:
    """A gzip of ``plain`` with one byte of its deflate data flipped where zlib's raw
    deflate decoder hands out text whose coordinates' digits went wrong in some frame k
    before the text stops reading as a dump: ``wanted`` "silent", it never does (the
    deflate data decodes to the end: only gzip's checksum can tell); "later", it does in
    a frame after k, where a line's non-digits differ (the lines that differ before it
    are atom lines whose coordinates changed). The packed bytes and k."""
    packed0 = gzip.compress(plain, mtime=0)        # a 10-byte header, an 8-byte trailer
    starts = np.array([m.start() for m in re.finditer(rb"ITEM: TIMESTEP", plain)])
    rng = np.random.default_rng(11)
    for _ in range(3000):
        packed = bytearray(packed0)
        packed[int(rng.integers(10, len(packed) - 8))] ^= int(rng.integers(1, 256))
        decompressor, parts, failed = zlib.decompressobj(-15), [], False
        try:
            for i in range(10, len(packed) - 8, 1024):
                parts.append(decompressor.decompress(bytes(packed[i:min(i + 1024,
                                                                        len(packed) - 8)])))
        except zlib.error:
            failed = True
        got = b"".join(parts)
        n = min(len(got), len(plain))
        differ = np.flatnonzero(np.frombuffer(got[:n], np.uint8)
                                != np.frombuffer(plain[:n], np.uint8))
        if not differ.size:
            continue
        line0 = got.rfind(b"\n", 0, int(differ[0])) + 1
        k = int(np.sum(starts[1:] <= differ[0]))
        whole = got[line0:got.rfind(b"\n") + 1]     # no line the failure cut off
        pairs = zip(whole.splitlines(True), plain[line0:].splitlines(True))
        at, broken, other = line0, None, False
        for x, y in pairs:
            if x != y and not _coordinates_only(x, y):
                other = _shape(x) == _shape(y)      # a header's digits: neither kind
                broken = None if other else at
                break
            at += len(x)
        if other:
            continue
        if wanted == "silent" and not failed and broken is None and len(got) == len(plain):
            return bytes(packed), k
        if wanted == "later" and broken is not None and np.sum(starts[1:] <= broken) > k:
            return bytes(packed), k
    raise AssertionError(f"no {wanted} damage found")


def test_gzip_damage_only_its_end_check_finds_names_no_frame(plain, tmp_path):
    """Deflate resynchronised after the damage: digits of frame k changed, every frame
    still reads, and only gzip's checksum at the end of the stream fails. Was: 'damaged
    in frame 60 (after step 590)', a frame the file does not hold, and 'the 60 whole
    frames before it are readable', frame k among them."""
    packed, k = _gzip_flip(plain, "silent")
    assert 0 <= k < N_FRAMES
    path = tmp_path / "md.dump.gz"
    path.write_bytes(packed)
    with pytest.raises(OSError) as library:     # gzip's verdict, at the stream's end
        with gzip.open(path, "rb") as fh:
            fh.read()
    with pytest.raises(AnalysisError) as ours:
        read_dump(path, tmp_path / "md.data", np.arange(1, N_ATOMS + 1))
    message = str(ours.value)
    assert f"its {N_FRAMES} frames read as a dump, but then its gzip data failed" in message
    assert str(library.value) in message
    assert "any of the frames may hold damaged numbers" in message
    assert "readable" not in message and f"frame {N_FRAMES}" not in message


def test_gzip_frames_before_the_refused_one_are_not_said_intact(plain, tmp_path):
    """The coordinates of frame k went wrong in their digits, the text of a later frame
    so that it no longer reads: the frames before the refused one are not all intact
    (was: 'the N whole frames before it are readable')."""
    packed, k = _gzip_flip(plain, "later")
    path = tmp_path / "md.dump.gz"
    path.write_bytes(packed)
    with pytest.raises(AnalysisError) as ours:
        read_dump(path, tmp_path / "md.data", np.arange(1, N_ATOMS + 1))
    message = str(ours.value)
    said = int(re.search(r"damaged in frame (\d+)", message).group(1))
    assert said > k       # the damaged frame k is among those before the refused one
    assert "are readable" not in message
    assert "so they may hold damaged numbers too" in message


def test_refused_first_frame_does_not_wait_for_the_whole_stream(plain, tmp_path,
                                                                monkeypatch):
    """Another system's data file is refused at the first frame without unpacking the
    whole file to look for damage (20 s for a 1 GB gzip dump): only the first
    FIRST_FRAME_CHECK bytes of text are checked. Here that is 20 frames, and the damage
    lies in the last frames, which the library finds when reading to the end (was: the
    refusal said the data was damaged in frame 0)."""
    monkeypatch.setattr(dump_module, "FIRST_FRAME_CHECK", len(plain) // 3, raising=False)
    packed = bytearray(bz2.compress(plain, 1))
    packed[-200:-192] = bytes(b ^ 0x5A for b in packed[-200:-192])
    path = tmp_path / "md.dump.bz2"
    path.write_bytes(bytes(packed))
    with pytest.raises(OSError):                # the library finds the damage at the end
        with bz2.open(path, "rb") as fh:
            fh.read()
    with pytest.raises(AnalysisError) as ours:
        read_dump(path, tmp_path / "md.data", np.arange(1, N_ATOMS // 2 + 1))
    assert f"{N_ATOMS} atoms in the dump" in str(ours.value)
    assert "damaged" not in str(ours.value)


def test_damage_in_the_first_frame_offers_no_frames(plain, tmp_path):
    """Damage at the start of the deflate data (was: 'the 0 whole frames before it are
    readable: unpack the file ... delete from frame 0's ITEM: TIMESTEP on')."""
    packed = bytearray(gzip.compress(plain, mtime=0))
    packed[12:40] = bytes(b ^ 0x5A for b in packed[12:40])
    path = tmp_path / "md.dump.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(zlib.error) as library:
        zlib.decompress(bytes(packed), 31)
    with pytest.raises(AnalysisError) as ours:
        read_dump(path, tmp_path / "md.data", np.arange(1, N_ATOMS + 1))
    message = str(ours.value)
    assert "gzip data damaged in frame 0 (" in message and str(library.value) in message
    assert "no whole frame before it" in message and "0 whole frames" not in message
