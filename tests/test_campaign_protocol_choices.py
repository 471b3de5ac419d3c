"""A campaign's unknown protocol name is refused with the choices: each choice offered must
then be accepted (the message offered ev-scan, which campaigns refuse as no MD protocol)."""

from __future__ import annotations

import re

import pytest

from ionmd.errors import IonmdError
from ionmd.sweep import load_campaign
from sweep_setup import campaign_dir, morse_model, write_campaign


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("choices")
    return campaign_dir(tmp / "c", morse_model(tmp / "morse.pt"))


def _problems(path) -> str:
    try:
        load_campaign(path, check_resources=False)
    except IonmdError as e:
        return str(e)
    return ""


def test_every_protocol_offered_is_one_a_campaign_runs(folder):
    message = _problems(write_campaign(folder, name="bad", protocol="no-such-protocol"))
    offered = re.search(r"unknown protocol 'no-such-protocol'; choose one of ([^\n]+)", message)
    assert offered, message
    choices = [c.strip() for c in offered.group(1).split(",")]
    assert "conductivity" in choices
    for name in choices:
        problems = _problems(write_campaign(folder, name=f"p_{name.replace('-', '_')}",
                                            protocol=name))
        assert f"protocol {name!r} is not an MD protocol" not in problems, problems
        assert "unknown protocol" not in problems, problems
