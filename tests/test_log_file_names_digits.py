"""A run folder's logs are listed whatever digits their names hold: a name part of digits
``int()`` refuses (``log.².lammps``: ``str.isdigit`` takes '²') sorts as a word, after
the numbered logs. Before, ``natural_order`` raised a bare ValueError and ``log_files``,
which every analysis of the folder calls, ended in a traceback."""

from __future__ import annotations

from ionmd.lammps.log import log_files, natural_order


def test_a_log_named_with_other_digits_sorts_as_a_word(tmp_path):
    for name in ("log.².lammps", "log.10.lammps", "log.2.lammps", "log.lammps"):
        (tmp_path / name).write_text("LAMMPS (29 Aug 2024)\n")
    assert [p.name for p in log_files(tmp_path)] == [
        "log.2.lammps", "log.10.lammps", "log.lammps", "log.².lammps"]
    assert natural_order("log.².lammps") == [(1, 0, "log"), (1, 0, "²"), (1, 0, "lammps")]
