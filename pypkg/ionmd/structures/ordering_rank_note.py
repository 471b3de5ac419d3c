"""The words for ``--order-model-rank N`` (a campaign's ``order_model_rank = N``) on a
structure with nothing to order: ``ionmd run``, ``ionmd screen`` and a campaign's plan say
it alike, so it has one home here, below every command that ranks."""

from __future__ import annotations

RANKING_RECORD = "ordering_rank.json"
"""The file ``ionmd run`` writes a model ranking to, beside the runs that used it (a
campaign's cache had this name before it got its own, and is still read from it)."""


def nothing_to_rank(asked: str, start: str) -> str:
    """The note for a structure without partially occupied sites where a model ranking of
    its arrangements was asked for: ``asked`` names the request as the user gave it
    (``"--order-model-rank 3"``, ``"order_model_rank = 3"``), ``start`` what is used instead
    (``"the runs start from the file's own cell"``). The caller puts the structure first
    (``"X has "`` or ``"X: "``)."""
    return f"no partially occupied sites to order: {asked} ranks nothing, {start}"


__all__ = ["RANKING_RECORD", "nothing_to_rank"]
