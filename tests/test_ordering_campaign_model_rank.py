"""A campaign's ``order_model_rank`` (top level or a structure's entry) is taken as
``ionmd run --order-model-rank`` takes it (the ranking itself: test_campaign_model_rank.py):
with another order method than ``ewald`` it is refused on the structure's line as ``ionmd
run`` refuses it, and a value that is no whole number >= 1 on its own line, not as an
unknown key with 'did you mean order_seed?'. Nothing is ordered or run."""

from __future__ import annotations

import pytest

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


@pytest.mark.parametrize("where", ["top", "entry"])
def test_order_model_rank_needs_the_ewald_ordering(folder, where):
    if where == "top":
        path = write_campaign(folder, structures='["fcc.cif"]  # structure',
                              extra='order = "random"\norder_model_rank = 3')
    else:
        path = write_campaign(folder, structures='[\n  {path = "fcc.cif", order = "random", '
                                                 'order_model_rank = 3},  # structure\n]')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    lines = str(exc.value).splitlines()[1:]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith(f"  {path}, line {line_of(path, '# structure')}: "), line
    assert "unknown key" not in line and "order_seed" not in line
    assert "ewald" in line and "random" in line, line
    assert not (folder / "runs").exists()


@pytest.mark.parametrize("value", ["0", "2.5", "true"])
def test_order_model_rank_is_a_whole_number_from_1(folder, value):
    path = write_campaign(folder, extra=f'order = "ewald"\norder_model_rank = {value}  # rank')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    lines = str(exc.value).splitlines()[1:]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"  {path}, line {line_of(path, '# rank')}: "), lines
    assert "order_model_rank must be an integer >= 1" in lines[0], lines
    assert not (folder / "runs").exists()
