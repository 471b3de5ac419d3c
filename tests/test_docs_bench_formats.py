"""examples/bench_formats.py with a relative --export-dir, as docs/benchmarks.md runs it
(`--export-dir DIR`): LAMMPS runs inside DIR, and the model path was written relative to
the caller's folder, so every timed run stopped with "model file DIR/mace.pt does not exist".
The exported files are stand-ins (a tiny SevenNet in TorchScript under both names: the
plugin tells formats apart by content), so nothing is compiled."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_relative_export_dir_runs(tmp_path):
    sys.path.insert(0, str(ROOT / "tests"))
    from tiny_sevennet import write_tiny_sevennet_checkpoint
    from ionmd.export.sevennet import export_sevennet

    work = tmp_path / "DIR"
    work.mkdir()
    ckpt = write_tiny_sevennet_checkpoint(tmp_path / "tiny.pth")
    export_sevennet(str(ckpt), work / "sevennet.pt")
    (work / "sevennet.pt2").write_bytes((work / "sevennet.pt").read_bytes())
    (work / "export_times.json").write_text(json.dumps({"sevennet/torchscript": 1.0,
                                                        "sevennet/aoti": 1.0}))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "bench_formats.py"),
                           "--families", "sevennet", "--sizes", "1x1x1", "--repeats", "1",
                           "--threads", "1", "--export-dir", "DIR"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sevennet      8 atoms" in done.stdout, done.stdout
