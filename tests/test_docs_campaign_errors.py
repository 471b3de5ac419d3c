"""docs/sweeps.md's example of a refused campaign is what `ionmd sweep plan` prints for such
a file: the element a model lacks and more cores than the local executor has, each on its
line. (Both lines had older wordings than ionmd prints.) The model's element list, the
executor's core count and (on a machine with more cores than the doc's example asks for)
the ranks are the test's and this machine's, so they are put in as the doc writes them."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ase import Atoms
from ase.io import write

from ionmd.cli import main
from protocol_setup import morse_model

DOC = (Path(__file__).resolve().parents[1] / "docs" / "sweeps.md").read_text()

CAMPAIGN = """\
# a campaign with two problems
name = "example"
structures = [
  "PoLi.cif",
]
models = ["sevennet0.pt"]
temperatures = [600]
replicas = 1
[protocol]
name = "conductivity"
[resources]
threads = 1
ranks = {ranks}
"""


def documented_example() -> str:
    block = re.search(r"```\n(ionmd: error: \d+ problem\(s\) in the campaign file.*?)```", DOC, re.S)
    assert block, "docs/sweeps.md has no refused-campaign example"
    return block.group(1)


def test_refused_campaign_prints_what_the_doc_shows(tmp_path, capsys):
    morse_model(tmp_path / "sevennet0.pt")                    # knows Li and Cl, not Po
    write(tmp_path / "PoLi.cif", Atoms("PoLi", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]],
                                       cell=[3.4] * 3, pbc=True))
    doc_ranks = int(re.search(r"ranks x threads = (\d+) x 1", documented_example()).group(1))
    ranks = max(doc_ranks, len(os.sched_getaffinity(0)) + 1)     # more than this machine has
    (tmp_path / "campaign.toml").write_text(CAMPAIGN.format(ranks=ranks))
    assert main(["sweep", "plan", str(tmp_path / "campaign.toml")]) == 1
    printed = capsys.readouterr().err.replace(str(tmp_path) + "/", "")
    printed = re.sub(r"\(it knows [^)]*\)", "(it knows Ac Ag Al ...)", printed)
    printed = re.sub(r"local executor has \d+", "local executor has 2", printed)
    printed = printed.replace(f"= {ranks} x 1 = {ranks} cores",
                              f"= {doc_ranks} x 1 = {doc_ranks} cores")
    assert printed == documented_example()
