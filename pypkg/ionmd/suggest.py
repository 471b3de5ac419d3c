"""The one "did you mean" of ionmd: the known name closest to a misspelt one.

Every caller asks here (a protocol's parameters, a campaign file's keys, ``run.json``
keys, sbatch options, element symbols), so that one misspelling gets the same
suggestion everywhere. Names are compared case-folded, without ``_`` and ``-``
(``tdamp`` is ``tdamp_fs`` without its unit, ``li`` is ``Li``), by difflib's ratio.

:data:`CUTOFF` is 0.8, measured on both sides: one- or two-letter typos of names of
five letters and more score 0.82 and above (``temperatrue``/``temperatures`` 0.87,
``mail-typo``/``mail-type`` 0.88, ``tdamp``/``tdamp_fs`` 0.83, ``timestep``/
``timestep_fs`` 0.89), while names that are right but not in the list score below
0.75: sbatch options its ``--help`` does not list (``hint`` 0.67, ``ntasks-per-gpu``
0.72, ``tres-per-task`` 0.73). The sbatch check refuses on a suggestion only, so a
lower cutoff would refuse those right names. (``run.json`` refuses every unknown key,
with a table of synonyms beside this: ``T`` is no misspelling of ``temperature_K``.)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

CUTOFF = 0.8


def folded(name) -> str:
    """``name`` as names are compared: case-folded, without ``_``, ``-`` and spaces."""
    return re.sub(r"[_\-\s]", "", str(name).casefold())


def closest(word, known: Iterable) -> str | None:
    """The name of ``known`` closest to ``word`` (:data:`CUTOFF`), as ``known`` spells
    it; None if none is close, or if ``word`` is one of them."""
    known = [str(k) for k in known]
    if str(word) in known:
        return None
    by_folded: dict[str, str] = {}
    for name in known:
        by_folded.setdefault(folded(name), name)
    close = difflib.get_close_matches(folded(word), list(by_folded), n=1, cutoff=CUTOFF)
    return by_folded[close[0]] if close else None


def did_you_mean(word, known: Iterable) -> str:
    """``"; did you mean 'x'?"`` for a misspelt ``word`` with a close known name, else
    ``""`` (to append to a refusal)."""
    near = closest(word, known)
    return f"; did you mean {near!r}?" if near else ""
