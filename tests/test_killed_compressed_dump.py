"""A dump cut off inside a frame (LAMMPS killed while writing it) is refused, as before,
but with the command that copies its whole frames into a file of their own, the original
kept: ``head -n`` of its lines, through its compression where it is compressed (a
``dump custom/gz`` file cannot be truncated in place; before, the refusal said only
"truncate the file or rerun"). References: LAMMPS's own plain ``dump custom`` of the same
run, and the whole lines of the cut file's text as zlib/bz2/lzma unpack them. A DCD
cut so (its frames of fixed size) gets ``head -c`` of its whole frames."""

from __future__ import annotations

import bz2
import json
import lzma
import re
import subprocess
import zlib

import numpy as np
import pytest

from ionmd.analysis.trajectory import read_frames
from ionmd.errors import IonmdError
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

TYPE_MAP = {1: "Li", 2: "Cl"}
N_ATOMS = 108
FRAME_LINES = 9 + N_ATOMS

SCRIPT = two_type_lj_cell("fcc 4.4", region="block 0 3 0 3 0 3") + """\
velocity all create 600 1
write_data s.data
timestep 0.002
fix 1 all nvt temp 600 600 0.1
dump g all custom/gz 20 md.dump.gz id type x y z
dump_modify g sort id format float %.17g
dump p all custom 20 ref.dump id type x y z
dump_modify p sort id format float %.17g
dump d all dcd 20 t.dcd
run 1000
"""

#: unpacking the cut bytes independently: what whole lines of text they hold
UNPACK = {"gzip": lambda raw: zlib.decompressobj(wbits=31).decompress(raw),
          "bz2": lambda raw: bz2.BZ2Decompressor().decompress(raw),
          "xz": lambda raw: lzma.LZMADecompressor().decompress(raw),
          "plain": lambda raw: raw}
NAMES = {"gzip": "md.dump.gz", "bz2": "md.dump.bz2", "xz": "md.dump.xz", "plain": "md.dump"}


@pytest.fixture(scope="module")
def nvt_run(tmp_path_factory):
    """A 51-frame NVT run dumped by LAMMPS as custom/gz and as plain text."""
    workdir = tmp_path_factory.mktemp("gz_dump")
    run_lmp(SCRIPT, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


def _whole_dump(run, kind: str) -> bytes:
    """The run's dump in ``kind``: LAMMPS's own gzip file, the others packed here."""
    if kind == "gzip":
        return (run / "md.dump.gz").read_bytes()
    text = (run / "ref.dump").read_bytes()
    # (bzip2 -1: blocks of 100 kB, so that the cut leaves whole blocks to unpack)
    return {"bz2": lambda b: bz2.compress(b, 1), "xz": lzma.compress, "plain": lambda b: b}[kind](text)


def _killed_copy(run, tmp_path, kind: str) -> tuple:
    """A run directory whose dump is cut at 60 % of its bytes, as a kill leaves it."""
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "s.data").write_bytes((run / "s.data").read_bytes())
    raw = _whole_dump(run, kind)
    cut = killed / NAMES[kind]
    cut.write_bytes(raw[:len(raw) * 3 // 5])
    return killed, cut


def _ref_frames(run):
    return read_frames(run / "s.data", [run / "ref.dump"], type_map=TYPE_MAP)[0]


@pytest.mark.parametrize("kind", ["gzip", "bz2", "xz", "plain"])
def test_cut_dump_refusal_gives_the_command_that_keeps_its_whole_frames(nvt_run, tmp_path,
                                                                        kind):
    killed, cut = _killed_copy(nvt_run, tmp_path, kind)
    cut_bytes = cut.read_bytes()
    text = UNPACK[kind](cut_bytes)
    n_whole = text.count(b"\n") // FRAME_LINES
    ref = _ref_frames(nvt_run)
    assert 0 < n_whole < len(ref.steps)
    with pytest.raises(IonmdError, match="ends in the middle of a frame") as refusal:
        read_frames(killed / "s.data", [cut], type_map=TYPE_MAP)
    message = str(refusal.value)
    assert f"{n_whole} whole frames are readable (the last at step " \
           f"{ref.steps[n_whole - 1]})" in message
    found = re.search(r"the original kept as it is \((.+?)\) and analyse that with "
                      r"--trajectory (\S+) ", message)
    assert found, message
    command, name = found.groups()
    subprocess.run(command, shell=True, check=True, cwd=killed, stderr=subprocess.DEVNULL)
    kept = read_frames(killed / "s.data", [killed / name], type_map=TYPE_MAP)[0]
    np.testing.assert_array_equal(kept.steps, ref.steps[:n_whole])
    np.testing.assert_array_equal(kept.positions, ref.positions[:n_whole])
    assert cut.read_bytes() == cut_bytes                     # the original kept


def test_killed_gzip_run_analyses_after_the_advised_command(nvt_run, tmp_path, capsys):
    from ionmd.cli import main

    killed, cut = _killed_copy(nvt_run, tmp_path, "gzip")
    (killed / "run.json").write_text(json.dumps({
        "temperature_K": 600, "timestep_fs": 2.0, "type_map": {"1": "Li", "2": "Cl"},
        "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1}}))
    options = ["--fit-start-ps", "0.1", "--window-ps", "0.4", "-o", str(tmp_path / "out")]
    assert main(["analyze", str(killed), *options]) != 0
    err = capsys.readouterr().err
    command, name = re.search(r"as it is \((.+?)\) and analyse that with --trajectory (\S+) ",
                              err).groups()
    subprocess.run(command, shell=True, check=True, cwd=killed.parent,
                   stderr=subprocess.DEVNULL)
    assert main(["analyze", str(killed), "--trajectory", name, *options]) == 0
    results = json.loads((tmp_path / "out" / "killed" / "results.json").read_text())
    assert results["trajectory"] == [name]


def test_cut_dcd_refusal_gives_the_command_that_keeps_its_whole_frames(nvt_run, tmp_path):
    from ionmd.lammps.dcd import dcd_layout

    raw = (nvt_run / "t.dcd").read_bytes()
    (tmp_path / "s.data").write_bytes((nvt_run / "s.data").read_bytes())
    cut = tmp_path / "t.dcd"
    cut.write_bytes(raw[:len(raw) * 3 // 5])
    layout = dcd_layout(cut)
    n_whole = (cut.stat().st_size - layout.header) // layout.frame
    with pytest.raises(IonmdError, match="ends in the middle of a frame") as refusal:
        read_frames(tmp_path / "s.data", [cut], type_map=TYPE_MAP)
    command, name = re.search(r"as it is \((.+?)\) and analyse that with --trajectory (\S+) ",
                              str(refusal.value)).groups()
    assert f"{n_whole} whole frames are readable" in str(refusal.value)
    subprocess.run(command, shell=True, check=True, cwd=tmp_path)
    kept = read_frames(tmp_path / "s.data", [tmp_path / name], type_map=TYPE_MAP)[0]
    ref = _ref_frames(nvt_run)
    np.testing.assert_array_equal(kept.steps, ref.steps[:n_whole])
    # DCD: float32 positions
    np.testing.assert_allclose(kept.positions, ref.positions[:n_whole], rtol=0, atol=1e-5)


@pytest.mark.parametrize("name, source", [("prod run 1.dump.gz", "md.dump.gz"),
                                          ("prod run 1.dcd", "t.dcd")])
def test_advice_for_a_file_name_with_spaces_works_in_a_shell(nvt_run, tmp_path, name, source):
    """Both the command and the name given to --trajectory are quoted for the shell: the
    name was written bare ('--trajectory prod run 1.whole.dump.gz', three words)."""
    import shlex

    raw = (nvt_run / source).read_bytes()
    (tmp_path / "s.data").write_bytes((nvt_run / "s.data").read_bytes())
    cut = tmp_path / name
    cut.write_bytes(raw[:len(raw) * 3 // 5])
    with pytest.raises(IonmdError, match="ends in the middle of a frame") as refusal:
        read_frames(tmp_path / "s.data", [cut], type_map=TYPE_MAP)
    command, argument = re.search(r"as it is \((.+?)\) and analyse that with --trajectory "
                                  r"(.+?) \('trajectory' in run.json\)",
                                  str(refusal.value)).groups()
    subprocess.run(command, shell=True, check=True, cwd=tmp_path, stderr=subprocess.DEVNULL)
    words = shlex.split(argument)
    assert len(words) == 1
    kept = read_frames(tmp_path / "s.data", [tmp_path / words[0]], type_map=TYPE_MAP)[0]
    ref = _ref_frames(nvt_run)
    assert 0 < len(kept.steps) < len(ref.steps)
    np.testing.assert_array_equal(kept.steps, ref.steps[:len(kept.steps)])
    assert cut.read_bytes() == raw[:len(raw) * 3 // 5]      # the original kept


def test_unpack_advice_for_a_zstd_dump_with_spaces_is_one_shell_word(tmp_path):
    """The zstd/lz4 refusal gave 'zstd -d prod run 1.dump.zst' unquoted: four words."""
    import shlex

    from ionmd.lammps.dump import open_dump

    packed = tmp_path / "prod run 1.dump.zst"
    packed.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(32))          # zstd's frame magic
    with pytest.raises(IonmdError, match="compressed with zstd") as refusal:
        open_dump(packed)
    command = re.search(r"unpack it first \((.+?)\) and give", str(refusal.value)).group(1)
    assert shlex.split(command) == ["zstd", "-d", str(packed)]
