"""``--data-file`` (and run.json's ``data_file``) name a file relative to the run folder,
as ``--help`` says; a user beside the run folders who gave the data file next to them
(``ionmd analyze custom --data-file LiCl.data``) read only 'data file custom/LiCl.data not
found'. The refusal now says the path is the run folder's and gives the absolute path of
the file of that name in the current folder, which is then accepted."""

from __future__ import annotations

import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.errors import AnalysisError

DATA = """LAMMPS data

2 atoms
1 atom types

0 5 xlo xhi
0 5 ylo yhi
0 5 zlo zhi

Masses

1 6.94

Atoms # atomic

1 1 1 1 1
2 1 3 3 3
"""


def test_a_data_file_beside_the_run_folder_is_named_with_its_absolute_path(tmp_path,
                                                                          monkeypatch):
    run = tmp_path / "custom"
    run.mkdir()
    (tmp_path / "LiCl.data").write_text(DATA)
    (run / "md.dump").write_text("")            # the run's trajectory (not read here)
    monkeypatch.chdir(tmp_path)
    given = {"timestep_fs": 1.0, "temperature_K": 800.0}
    with pytest.raises(AnalysisError, match=r"relative to the run folder .*custom\); "
                                            r"LiCl.data in the current folder is "
                                            + str(tmp_path / "LiCl.data")):
        load_run_spec(run, overrides={**given, "data_file": "LiCl.data"})
    spec = load_run_spec(run, overrides={**given, "data_file": str(tmp_path / "LiCl.data")})
    assert spec.data_file == tmp_path / "LiCl.data"
    with pytest.raises(AnalysisError, match=r"data file .*nothing.data not found \(--data-file"):
        load_run_spec(run, overrides={**given, "data_file": "nothing.data"})
