"""A campaign whose every run ramps (``stability``, ``pressure-ramp``) fits no MSD (no D nor
sigma over a ramp: ionmd.analysis.run_inputs.ramp_of), so its fit window is not judged: a
short stability campaign with the default fit start is planned, as ``ionmd run stability``
plans it, while a held protocol of the same length is still refused."""

from __future__ import annotations

import pytest

from ionmd.errors import IonmdError
from ionmd.sweep import load_campaign
from sweep_setup import campaign_dir, write_campaign

# no fit_start_ps: the default 1 ps lies past the fit end of 0.5 ps runs
ANALYSIS = "charges = {Li = 1, Cl = -1}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory, morse):
    return campaign_dir(tmp_path_factory.mktemp("rampwin"), morse)


def test_a_short_stability_campaign_is_planned(folder):
    path = write_campaign(folder, name="ramp", protocol="stability", temperatures=(300,),
                          analysis=ANALYSIS, duration_ps=0.5, discard_ps=0.0)
    campaign = load_campaign(path, check_resources=False)
    assert campaign.protocol.temperature_end == 2100.0     # the preset's ramp, kept


def test_a_short_pressure_ramp_campaign_is_planned(folder):
    path = write_campaign(folder, name="pramp", protocol="pressure-ramp", temperatures=(300,),
                          analysis=ANALYSIS, duration_ps=0.5, discard_ps=0.0)
    campaign = load_campaign(path, check_resources=False)
    assert campaign.protocol.pressure_end_bar != campaign.protocol.pressure_bar


def test_a_held_protocol_of_that_length_is_still_refused(folder):
    path = write_campaign(folder, name="held", protocol="conductivity", temperatures=(300,),
                          analysis=ANALYSIS, duration_ps=0.5, discard_ps=0.0)
    with pytest.raises(IonmdError, match="fit_start_ps"):
        load_campaign(path, check_resources=False)


def test_a_ramp_that_ends_at_one_of_the_temperatures_is_judged(folder):
    # the run at temperature_end holds it: its MSD is fitted, so the window is checked
    path = write_campaign(folder, name="mixed", protocol="stability", temperatures=(300, 2100),
                          analysis=ANALYSIS, duration_ps=0.5, discard_ps=0.0)
    with pytest.raises(IonmdError, match="fit_start_ps"):
        load_campaign(path, check_resources=False)
