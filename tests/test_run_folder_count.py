"""The run folders one protocol plans (replicas x temperatures, for one structure and model:
``ionmd run``, the API, each series of a campaign) are bounded as each factor is: replicas
<= 1000 and temperatures <= 200 each passed, so 1000 replicas at 200 temperatures planned
200,000 folders (``--dry-run`` wrote them; ``ionmd sweep plan`` printed a row each, 20,003
lines for 1000 x 20). Now more than MAX_SERIES_RUNS (10,000) is refused before anything is
written, naming the count and why. Reference: the product of the two counts given."""

from __future__ import annotations

import pytest

from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.protocols.checks import check_protocol
from ionmd.protocols.presets import get_protocol
from ionmd.protocols.setting_ranges import MAX_SERIES_RUNS
from sweep_setup import campaign_dir, write_campaign

TEMPS_20 = list(range(500, 1000, 25))


def test_replicas_times_temperatures_over_the_bound_are_refused():
    p = get_protocol("conductivity", replicas="1000", temperatures="500:975:25")
    with pytest.raises(IonmdError) as exc:
        check_protocol(p)
    assert "1000 replicas x 20 temperature(s) would make 20000 run folders" in str(exc.value)
    assert f"at most {MAX_SERIES_RUNS}" in str(exc.value)


def test_at_the_bound_is_accepted():
    check_protocol(get_protocol("conductivity", replicas=str(MAX_SERIES_RUNS // 20),
                                temperatures="500:975:25"))


def test_a_campaign_plan_is_refused_on_the_replicas_line(tmp_path, morse, capsys):
    path = write_campaign(campaign_dir(tmp_path, morse), replicas=1000, temperatures=TEMPS_20)
    assert main(["sweep", "plan", str(path)]) == 1
    out = capsys.readouterr()
    assert "would make 20000 run folders" in out.err and "replicas" in out.err, out.err
    assert "fcc  " not in out.out      # no row of the listing
    assert not (tmp_path / "runs").exists()
