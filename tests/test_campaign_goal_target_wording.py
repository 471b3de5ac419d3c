"""A goal's messages name the temperature its sigma is narrowed at: ``goal.target_K``
where given (before, "sigma(300 K) known within that factor" and "extrapolates to 300 K"
also for ``target_K = 600``), else 300 K. The reference is the file's target_K."""

from __future__ import annotations

import pytest

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


def _problems(path) -> list[str]:
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    return str(exc.value).splitlines()[1:]


@pytest.mark.parametrize("target, said", [(", target_K = 600", "600 K"), ("", "300 K"),
                                          (", target_K = 612.5", "612.5 K")])
def test_the_factor_message_names_the_target_temperature(folder, target, said):
    path = write_campaign(folder, extra='goal = {sigma_300K_factor = 0.5, budget = "10 h"'
                                        f'{target}}}  # goal')
    assert _problems(path) == [
        f"  {path}, line {line_of(path, '# goal')}: goal.sigma_300K_factor must be a number "
        f"> 1: sigma({said}) known within that factor either way (got 0.5)"]


def test_a_goal_at_one_temperature_names_the_target_it_extrapolates_to(folder):
    path = write_campaign(folder, temperatures=(600,),
                          extra='goal = {sigma_300K_factor = 3, budget = "10 h", '
                                'target_K = 450}')
    assert _problems(path) == [
        f"  {path}, line {line_of(path, 'temperatures = ')}: a goal needs runs at >= 2 "
        f"temperatures (an Arrhenius fit extrapolates to 450 K)"]
