"""A hand run at LAMMPS's default time step (no ``timestep`` command: 0.001 ps in units
metal), resumed with ``timestep 0.002`` appending to its dump: the frames' clock is uneven
and is refused as b4d8e8b refuses two echoed time steps. Before, the unechoed first run
counted for nothing: the echoed 2 fs was taken for every frame, the run reported 1.2 ps
long for 0.3 + 0.6 ps, D of the first run's frames halved, silently.

References: LAMMPS's own ``dt`` thermo column (the default it ran at) and the dump's step
numbers."""

import json
import re
import subprocess

import pytest

from lammps_runner import lammps_cmd, run_lmp
from ionmd.cli import main
from test_hand_run_uneven_frames import _FIRST, _RESUME, STEPS

_DEFAULT_FIRST = (_FIRST.replace("timestep 0.001\n", "")
                  .replace("thermo_style custom step temp pe press",
                           "thermo_style custom step dt temp pe press"))


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("default_dt") / "LiCl" / "900K"
    run_lmp(_DEFAULT_FIRST, folder)
    (folder / "in.resume").write_text(_RESUME)
    subprocess.run(lammps_cmd() + ["-in", "in.resume", "-log", "log.lammps.1"], cwd=folder,
                   check=True, stdout=subprocess.DEVNULL, env={"OMP_NUM_THREADS": "1"})
    return folder


def test_a_run_at_the_default_time_step_then_another_is_refused(resumed, capsys):
    log = (resumed / "log.lammps").read_text()
    assert not re.search(r"^timestep", log, re.M)       # the first run sets none ...
    rows = re.findall(r"^\s+(\d+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*$", log, re.M)
    assert rows and {float(dt) for _, dt in rows} == {0.001}    # ... and ran at 0.001 ps
    lines = (resumed / "md.dump").read_text().splitlines()
    steps = [int(lines[k + 1]) for k, x in enumerate(lines) if x == "ITEM: TIMESTEP"]
    assert max(steps) == 2 * STEPS          # 300 steps at 1 fs, 300 at 2 fs: 0.9 ps
    code = main(["analyze", str(resumed), "--fit-start-ps", "0.1", "--fit-end-ps", "0.4"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert ("timestep 0.001 (LAMMPS's default, log.lammps, run 1 from step 0), timestep "
            "0.002 (log.lammps.1, run 1 after read_restart) (units metal): the frames' "
            "clock is uneven") in err
    assert not (resumed / "analysis" / "results.json").exists()


def test_the_discard_it_names_leaves_the_second_run_alone(resumed, capsys):
    code = main(["analyze", str(resumed), "--fit-start-ps", "0.1", "--fit-end-ps", "0.2"])
    err = capsys.readouterr().err
    discard = re.search(r"discard_ps ([\d.]+)", err)[1]
    assert float(discard) == pytest.approx(STEPS * 0.002)   # run 1's steps on the 2 fs clock
    code = main(["analyze", str(resumed), "--discard-ps", discard, "--fit-start-ps", "0.1",
                 "--fit-end-ps", "0.2"])
    err = capsys.readouterr().err
    assert code == 0, err
    res = json.loads((resumed / "analysis" / "results.json").read_text())
    assert res["timestep_fs"] == 2.0
    assert res["run_length_ps"] == pytest.approx(STEPS * 0.002, abs=1e-9)
