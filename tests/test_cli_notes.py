"""ionmd's notes on input it accepted as it read it (a published 0.999 occupancy read as a
whole site) reached the command line as Python's warning line, ``.../load.py:112:
UserWarning: 'a.cif': occupancies adding up to 0.999 ...``: a traceback-like prefix naming
ionmd's source, not the user's file. The command line now prints them as its other notes,
``ionmd: note: ...``, once; other warnings keep Python's form."""

import warnings

from ionmd.cli import _notes_printed, main
from ionmd.errors import IonmdNote
from test_structure_rounding_and_conversion import LICL


def test_a_rounded_occupancy_is_one_note_on_the_command_line(folder, capsys):
    (folder / "a.cif").write_text(LICL.format(li="0.999"))
    rc = main(["run", "conductivity", str(folder / "a.cif"), "--model",
               str(folder / "morse.pt"), "--temps", "600", "--replicas", "1", "--supercell",
               "none", "-o", str(folder / "runs"), "--dry-run"])
    assert rc in (0, None)
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "read as whole" in line]
    assert len(notes) == 1, err
    assert notes[0].startswith("ionmd: note: ") and "a.cif" in notes[0], err
    assert "UserWarning" not in err and "load.py" not in err, err


def test_other_warnings_keep_pythons_form(capsys):
    shown = []
    show = _notes_printed(lambda *args: shown.append(args))
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        warnings.warn("a library's own warning", DeprecationWarning)
        warnings.warn("an ionmd note", IonmdNote)
    assert [str(args[0]) for args in shown] == ["a library's own warning"]
    assert capsys.readouterr().err == "ionmd: note: an ionmd note\n"


def test_a_campaign_loaded_twice_notes_its_file_once(folder, capsys):
    """``ionmd sweep status`` reads the campaign twice (its runs' table, then its goal);
    Python's once-per-place rule does not hold across them (every structure read resets
    the warning registry), and the note on the 0.999 occupancy came twice, before and after
    the table."""
    from sweep_setup import write_campaign

    (folder / "a.cif").write_text(LICL.format(li="0.999"))
    path = write_campaign(folder, structures='["a.cif"]')
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) in (0, None)
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "read as whole" in line]
    assert len(notes) == 1, err
    assert notes[0].startswith("ionmd: note: ") and "a.cif" in notes[0], err


def test_a_note_during_a_progress_bar_gets_its_own_line(capsys):
    """``ionmd screen`` reads each file under its tqdm bar (the rounding note comes from
    that read); a note printed by ``print`` was glued to the bar's line
    (``structures:  50%|...| 1/2 [...]ionmd: note: ...``). Now it is written as the
    screen's own notes are, through tqdm, which clears the bar first."""
    import sys

    from tqdm import tqdm

    show = _notes_printed(lambda *args: None)
    with tqdm(total=2, desc="structures", file=sys.stderr, mininterval=0) as bar:
        bar.update(1)
        show(IonmdNote("'a.cif': read as whole"), IonmdNote, "load.py", 112)
        bar.update(1)
    pieces = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert "ionmd: note: 'a.cif': read as whole" in pieces, pieces
