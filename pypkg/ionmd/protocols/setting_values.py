"""The kind of value each protocol setting takes (:func:`type_problem`: a number, a whole
number, a switch, text, a list) and how a value given as text or as Python holds it becomes
the field's own (:func:`converted`, :func:`plain_value`); apart from the rules on the values
(:mod:`ionmd.protocols.checks`, :mod:`ionmd.protocols.setting_ranges`) as what every one of
them reads first.
"""

from __future__ import annotations

import math
import numbers
import os
import typing
from decimal import Decimal, InvalidOperation

import numpy as np

from ionmd.errors import IonmdError
from ionmd.protocols.presets import TIME_ALIASES, Protocol, convert_text, parse_time_ps
from ionmd.suggest import did_you_mean

OPTION_FIELDS = {"temps": "temperatures"}
"""``ionmd run``'s options that set a field of another name (``--temps``): given to
``--set`` or a campaign's ``[protocol]`` they are no misspelling difflib finds (``temps``
and ``temperatures`` score 0.59), so each is suggested by name."""


# The Python API takes what Python code holds: numpy numbers (np.int64 from an array, a
# np.float64 from a fit), numpy arrays and ranges of temperatures, a Path for a file.
# They are stored as plain Python values (settings.json is JSON).
PATH_FIELDS = ("template",)


def type_problem(key: str, value, *, text_ok: bool = True) -> str | None:
    """What is wrong with the type of ``value`` for field ``key`` (None if nothing): a
    number where a number belongs (``replicas = 2.5``, ``replicas = true`` and
    ``dump_every = 2.5`` would be truncated or crash later), true/false for switches, text
    for text. Text is read as the command line reads it (``"2ns"``, ``"none"``) where
    ``text_ok`` (an override, converted next); a finished :class:`Protocol` holds none."""
    hint = typing.get_type_hints(Protocol).get(key)
    if hint is None or (text_ok and isinstance(value, str)):
        return None
    if typing.get_origin(hint) is tuple:
        inner = typing.get_args(hint)[0]
        if text_ok and inner is float and is_number(value):    # temperatures = 600
            return None
        listed = _sequence(value) if text_ok else isinstance(value, (list, tuple))
        ok = listed and all(
            (text_ok and isinstance(v, str)) or (inner is str and isinstance(v, str))
            or (inner is float and is_number(v)) for v in value)
        return None if ok else ("must be a list of numbers" if inner is float else
                                "must be a list of names")
    args = set(typing.get_args(hint)) or {hint}
    if value is None and type(None) in args:
        return None
    if key == "supercell":      # as ionmd.structures.supercell_repeats reads it
        return None if isinstance(value, str) or _whole(value) or (
            _sequence(value) and all(map(_whole, value))) else \
            "must be text ('2x2x2', '8A', 'none'), a whole number or three whole numbers"
    if bool in args:
        return None if isinstance(value, (bool, np.bool_)) else "must be true or false"
    if int in args:
        return None if _whole(value) else "must be a whole number"
    if float in args:
        return None if is_number(value) else "must be a number"
    if str in args:
        return None if isinstance(value, str) or (key in PATH_FIELDS and isinstance(
            value, os.PathLike)) else "must be text"
    return None


def _switch(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not _switch(value)


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not _switch(value)


def _sequence(value) -> bool:
    """A list as Python code may hold one: list, tuple, range or a 1-D numpy array."""
    return isinstance(value, (list, tuple, range)) or (isinstance(value, np.ndarray)
                                                       and value.ndim == 1)


def plain_value(value):
    """``value`` as a plain Python value: a numpy number or switch as int, float or bool,
    a path as text."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def non_finite(key: str, value) -> str | None:
    """NaN and infinite numbers pass every ``<``/``>`` check: refuse them by name."""
    items = value if isinstance(value, tuple) else (value,)
    if any(isinstance(v, float) and not math.isfinite(v) for v in items):
        return f"{key} must be a finite number (got {value!r})"
    return None


def unknown_name_hint(name: str, known) -> str:
    """``"; did you mean 'x'?"`` for an unknown setting ``name``: the field an option of
    ``ionmd run`` names otherwise (:data:`OPTION_FIELDS`), else the closest known name
    (:func:`ionmd.suggest.did_you_mean`), else ``""``."""
    field = OPTION_FIELDS.get(str(name).replace("-", "_"))
    return f"; did you mean {field!r}?" if field else did_you_mean(name, known)


def field_name(key: str) -> str:
    """The field an override sets (``check-every`` and ``check_every``: ``check_every_ps``)."""
    key = str(key).replace("-", "_")
    return TIME_ALIASES.get(key, key)


def converted(key: str, value):
    """``value`` as field ``key`` holds it: text read as the command line reads it, a
    time alias (``max_time = "2ns"``) in ps, a list of temperatures as a tuple of floats.

    Raises
    ------
    IonmdError
        If text does not read as the field's type.
    """
    name = str(key).replace("-", "_")
    if name in TIME_ALIASES:
        return parse_time_ps(str(value))
    hint = typing.get_type_hints(Protocol)[name]
    if isinstance(value, str):
        try:
            return convert_text(name, value, hint)
        except IonmdError as exc:
            raise IonmdError(f"{exc}{_in_digits(value, hint)}") from None
    if name == "temperatures" and is_number(value):                       # 600
        return (float(value),)
    if name == "temperatures" and _sequence(value):     # ["600", 900], np.arange(600, 1001, 100)
        return tuple(t for item in value for t in (
            convert_text(name, item, hint) if isinstance(item, str) else (float(item),)))
    if name == "mobile_species" and _sequence(value):
        return tuple(str(item) for item in value)
    if name == "supercell" and _sequence(value):
        return tuple(int(item) for item in value)
    return plain_value(value)


def _in_digits(text: str, hint) -> str:
    """For a whole-number field given a whole number in decimal or exponent notation
    (``thermo_every=1e9``, ``replicas=2.0``): ``": write 1e9 in digits, 1000000000"``, so
    that "must be a whole number" does not read as a refusal of the value; else ``""``."""
    args = set(typing.get_args(hint)) or {hint}
    if int not in args or bool in args:
        return ""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return ""
    if not number.is_finite() or number != number.to_integral_value() or \
            abs(number) >= Decimal("1e30"):     # no setting counts past 2**63
        return ""
    return f": write {text.strip()} in digits, {int(number)}"
