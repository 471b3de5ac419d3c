"""Options shared by several ``ionmd`` commands.

* argparse types for numbers with a valid range: a bad value is a usage error that says
  what to give, never a traceback or a silently odd run (``--np 0``, ``--spacing nan``);
* the structure options every command that reads structure files shares (``--order`` and
  friends), so that ``run``, ``bench`` and ``screen`` treat a disordered file alike.
"""

from __future__ import annotations

import argparse
import math

from ionmd.structures.occupancy_tolerance import OCCUPANCY_TOLERANCE


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"give a whole number >= 1, got {text!r}")
    return value


def element_symbol(text: str) -> str:
    """A chemical element's symbol as written (Li, not li or Lithium)."""
    from ase.data import chemical_symbols

    from ionmd.suggest import did_you_mean

    if text in chemical_symbols[1:]:
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not an element symbol"
        + (did_you_mean(text, chemical_symbols[1:]) or " (e.g. Li, Na)"))


def element_symbols(text: str) -> list[str]:
    """Comma-separated element symbols (Li,Na)."""
    return [element_symbol(s.strip()) for s in text.split(",") if s.strip()]


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"give a finite number > 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"give a finite number >= 0, got {text!r}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return float("nan")
    return value if math.isfinite(value) else float("nan")


def _in_range(name: str, whole: bool = False):
    """An argparse type for a number inside ``RANGES[name]`` (ionmd.protocols.checks: one
    range for the option and a campaign's key); ``whole``: a whole number (``--order-seed
    -1`` was a numpy traceback)."""
    kind = "whole" if whole else "finite"

    def read(text: str) -> float:
        from ionmd.protocols.setting_ranges import RANGES

        try:
            value = int(text) if whole else _float(text)
        except ValueError:
            value = None
        if value is None or not RANGES[name].holds(value):
            raise argparse.ArgumentTypeError(f"give a {kind} number {RANGES[name].text()} "
                                             f"({RANGES[name].why}), got {text!r}")
        return value

    read.__name__ = name    # argparse names the option's type in its message
    return read


def add_order_arguments(parser: argparse.ArgumentParser, model_rank: bool = False) -> None:
    """``--order``, ``--order-seed``, ``--order-tol``, ``--order-min-distance``; with
    ``model_rank`` (a command that re-ranks the candidates by its ``--model``:
    ``ionmd.screen.ordering_rank``) ``--order-model-rank``."""
    g = parser.add_argument_group("partially occupied sites")
    g.add_argument("--order", choices=("ewald", "random"), default=None,
                   help="order structures with partial occupancies first (ewald: lowest "
                        "Ewald energy; random: seeded by --order-seed); default: refuse them")
    g.add_argument("--order-seed", type=_in_range("order_seed", whole=True), default=0,
                   help="seed of --order random (a whole number >= 0; default 0)")
    g.add_argument("--order-tol", type=_in_range("order_tol"), default=OCCUPANCY_TOLERANCE,
                   help="occupancy rounding allowed when ordering, so that a small cell has "
                        f"whole counts (default {OCCUPANCY_TOLERANCE:g}: exact; e.g. 0.15 "
                        "orders refined occupancies such as LGPS's in one unit cell)")
    g.add_argument("--order-min-distance", type=_in_range("order_min_distance"), default=None,
                   metavar="A",
                   help="atoms placed on partially occupied sites stay this far apart, A "
                        "(default: 0.8 x their covalent radii sum, e.g. Li-Li 2.05, giving way "
                        "where the occupancies force closer pairs to the fewest such pairs, none "
                        "below 0.85 x their ionic radii sum; 0: no rule)")
    if model_rank:
        g.add_argument("--order-model-rank", type=positive_int, default=1, metavar="N",
                       help="with --order ewald: take the N lowest-Ewald arrangements (one "
                            "per symmetry class) and keep the one of lowest --model energy "
                            "(fixed-cell single point each; the choice, its Ewald rank and "
                            "the energy spread are recorded); default 1: the lowest-Ewald one")


def order_options(args: argparse.Namespace):
    from ionmd.structures import OrderOptions

    return OrderOptions(args.order, args.order_seed, args.order_tol, args.order_min_distance,
                        candidates=getattr(args, "order_model_rank", 1))
