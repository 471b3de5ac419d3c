"""Strict JSON for every file ionmd writes (results.json, summary.json, ev.json, screen
tables, bench records, goal.json, the analysis caches).

``json.dumps`` writes ``Infinity`` and ``NaN`` for non-finite floats, which strict readers
(jq, JavaScript's ``JSON.parse``, many JSON libraries) refuse: one such value made a whole
results.json unreadable to them. Here JSON has one encoding for them, ``null``, written by
the code that knows what the value means, and read back by the same key's reader:

- an interval end with no bound (a collective sigma's upper end beyond its relative error's
  limit, :mod:`ionmd.analysis.conductivity`): ``null``, read back as ``inf``
  (:func:`unbounded_to_json`, :func:`unbounded_from_json`); the record says why beside it;
- an infinite number of degrees of freedom (a normal quantile): ``null``
  (``ionmd.analysis.arrhenius.dof_to_json``);
- a measurement that is not a number (a thermo value a diverging model printed as ``nan``,
  a memory size a log did not give): ``null`` (:func:`nonfinite_to_null`, for the parts of
  a record made of such measurements).

Any other NaN or infinity is a bug of the writer: :func:`dumps` raises
:class:`NonFiniteJSONError` naming where in the document it is, and nothing is written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ionmd.errors import IonmdError


class NonFiniteJSONError(IonmdError, ValueError):
    """A NaN or infinity where a JSON document has no encoding for it (module docstring)."""


def unbounded_to_json(end: float | None) -> float | None:
    """An interval end as strict JSON: ``None`` where it is infinite (no bound)."""
    return None if end is None or math.isinf(float(end)) else float(end)


def unbounded_from_json(end: float | None) -> float:
    """:func:`unbounded_to_json`'s value back: ``None`` is an upper end at infinity."""
    return math.inf if end is None else float(end)


def nonfinite_to_null(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float (numpy's too) as ``None``: for records of
    measurements where such a value means "not a number" (a failure report's events)."""
    if isinstance(obj, dict):
        return {k: nonfinite_to_null(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [nonfinite_to_null(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def nonfinite_path(obj: Any, where: str = "") -> str | None:
    """Where the first NaN or infinity in ``obj`` is (``conductivity.sigma_ci95[1] = inf``),
    None where there is none."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            found = nonfinite_path(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            found = nonfinite_path(v, f"{where}[{i}]")
            if found:
                return found
    elif isinstance(obj, float) and not math.isfinite(obj):
        return f"{where or '(the document)'} = {obj}"
    return None


def dumps(obj: Any, *, indent: int | None = None, sort_keys: bool = False,
          what: str = "a JSON document") -> str:
    """``obj`` as strict JSON (``allow_nan=False``). ``what`` names the file in the error.

    Raises
    ------
    NonFiniteJSONError
        Where ``obj`` holds a NaN or infinity: it names the key, so that its writer encodes
        it (module docstring) instead of writing a file strict readers refuse."""
    try:
        return json.dumps(obj, indent=indent, sort_keys=sort_keys, allow_nan=False)
    except ValueError as exc:
        found = nonfinite_path(obj)
        if found is None:
            raise
        raise NonFiniteJSONError(
            f"{what}: {found} has no strict-JSON form (JSON has no NaN or Infinity); this "
            f"is a bug of ionmd's writer, which should encode it (ionmd.strict_json), please "
            f"report it; nothing was written") from exc


def write(path: str | Path, obj: Any, *, indent: int | None = 1, sort_keys: bool = False) -> None:
    """``obj`` as strict JSON (:func:`dumps`) into ``path``; checked before the file is
    opened, so a refused document leaves an earlier file as it was."""
    path = Path(path)
    path.write_text(dumps(obj, indent=indent, sort_keys=sort_keys, what=str(path)))
