"""The problems of one campaign file, each on the line of the key it is about, raised
together (all at once, sorted by line) once the whole file has been read; and the checks
of single values that every table of the file shares (known keys, whole numbers, ranges).
"""

from __future__ import annotations

from ionmd.protocols.setting_ranges import range_problem
from ionmd.protocols.setting_values import OPTION_FIELDS
from ionmd.suggest import did_you_mean
from ionmd.sweep.source import CampaignError, Source


class Problems:
    """Collects ``(line, message)`` pairs and raises them as one CampaignError."""

    def __init__(self, src: Source):
        self.src, self.items = src, []

    def add(self, key: tuple, msg: str) -> None:
        self.items.append((self.src.line(*key), msg))

    def raise_if_any(self) -> None:
        if self.items:
            items = sorted(self.items, key=lambda x: x[0])
            lines = [f"{self.src.path}, line {n}: {m}" for n, m in items]
            raise CampaignError(f"{len(lines)} problem(s) in the campaign file (nothing was "
                                f"submitted):\n  " + "\n  ".join(lines))


def dotted(key: tuple) -> str:
    """``("executor", "cores")`` as the file's reader says it: ``executor.cores``."""
    return ".".join(map(str, key))


def check_int(errors: Problems, key: tuple, value, minimum: int) -> int | None:
    """``value`` where it is a whole number >= ``minimum`` (true/false are not), else None
    and the problem on its line."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        errors.add(key, f"{dotted(key)} must be an integer >= {minimum} (got {value!r})")
        return None
    return value


def check_range(errors: Problems, key: tuple, value) -> bool:
    """Whether ``value`` of campaign key ``key`` is inside its range
    (:data:`ionmd.protocols.setting_ranges.RANGES`: NaN and infinities never are); if not, says
    so on its line."""
    why = range_problem(dotted(key), value)
    if why:
        errors.add(key, why)
    return why is None


def check_keys(errors: Problems, table: dict, key: tuple, known: tuple) -> None:
    """Every key of ``table`` (at ``key`` in the file) is one of ``known``; an unknown one
    is said on its line with the nearest known one."""
    for k in table:
        if k not in known:
            # `temps` (ionmd run's --temps) is no misspelling difflib finds: named by the table
            field = OPTION_FIELDS.get(str(k).replace("-", "_"))
            hint = f"; did you mean {field!r}?" if field in known else did_you_mean(k, known)
            errors.add(key + (k,), f"unknown key {dotted(key + (k,))!r}"
                                   f"{hint}; known: {', '.join(known)}")
