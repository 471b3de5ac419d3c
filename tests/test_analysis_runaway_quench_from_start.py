"""A run that starts hot and cools towards its thermostat's target (a 600 K run read from a
1500 K melt's restart, in a log of its own) is no temperature runaway: its first window's
running mean already falls. The check treated the first window as never cooling and
flagged step 400 (1344 K > 2 x 600 K; review RV9). A run that heats stays flagged.
Reference: the analytic temperature curves below (an exponential quench, a linear heating)."""

from __future__ import annotations

import numpy as np

from ionmd.analysis.failure import _temperature_runaway

STEPS = np.arange(0, 4001, 100)


def test_a_quench_from_its_first_row_is_no_runaway():
    T = 600 + 900 * np.exp(-STEPS / 1000.0)          # 1500 K -> 600 K, falling at every row
    assert _temperature_runaway({"Step": STEPS, "Temp": T}, 600.0, 2.0, 5) == []


def test_a_run_that_heats_past_twice_its_target_is_flagged():
    T = 600 + 0.5 * STEPS                             # 600 K -> 2600 K
    (event,) = _temperature_runaway({"Step": STEPS, "Temp": T}, 600.0, 2.0, 5)
    # the first window whose mean passes 1200 K: rows i..i+4 average 600 + 0.5 * 100 * (i + 2)
    i = int(np.ceil((1200 - 600) / 50 - 2 + 1e-9))
    assert event[0] == "temperature_runaway" and event[1] == STEPS[i + 4]
