"""A campaign's ``order_model_rank`` (top level or a structure's entry) is refused on its
line with the ways that rank by model energy (``ionmd screen``/``ionmd run``
``--order-model-rank``), not as an unknown key with 'did you mean order_seed?' (which
offered a key that does something else). Nothing is ordered or run."""

from __future__ import annotations

import pytest

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


@pytest.mark.parametrize("where", ["top", "entry"])
def test_order_model_rank_is_refused_with_the_way_that_works(folder, where):
    if where == "top":
        path = write_campaign(folder, extra='order = "ewald"\norder_model_rank = 3  # rank')
    else:
        path = write_campaign(folder, structures='[\n  {path = "fcc.cif", order = "ewald", '
                                                 'order_model_rank = 3},  # rank\n]')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    lines = str(exc.value).splitlines()[1:]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith(f"  {path}, line {line_of(path, '# rank')}: "), line
    assert "unknown key" not in line and "order_seed" not in line
    assert "order_model_rank = 3" in line
    assert "ionmd screen" in line and "--order-model-rank N" in line
    assert not (folder / "runs").exists()
