"""Settings refused by what is wrong with them, in the words of the one table of ranges
(:data:`ionmd.protocols.setting_ranges.RANGES`), where before a downstream rule said
something else or nothing: a negative ``discard_ps`` read "-1.0 ps are discarded: nothing
would be left to analyse ... --time 99ps" (lengthening the run cannot help); ``replicas=<400 digits>`` was an
OverflowError traceback; ``thermo_every=1e9``, a whole number, was refused as no whole
number without saying why; ``--set temps=600`` (``ionmd run --temps``'s name) got no
suggestion.

References: the ranges as documented (discard_ps >= 0 ps; a seed has none), the values at their
bounds still accepted, the number 1e9 is (10**9), and the field ``--temps`` sets."""

from __future__ import annotations

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol
from ionmd.protocols.checks import apply_overrides, check_protocol


def _conductivity(**overrides):
    p, problems = apply_overrides(get_protocol("conductivity"),
                                  {"temperatures": "600", "time": "2ps", "discard_ps": "0.5",
                                   **overrides})
    assert not problems, problems
    return p


def test_a_negative_discard_is_refused_as_out_of_range():
    with pytest.raises(IonmdError) as err:
        check_protocol(_conductivity(discard_ps="-1"))
    assert "discard_ps -1 ps is out of range: give >= 0 ps" in str(err.value)
    assert "nothing would be left" not in str(err.value)
    check_protocol(_conductivity(discard_ps="0"))       # the whole run analysed


def test_any_whole_seed_is_taken_and_hashed_into_lammps_range():
    """A seed has no range: a folder planned with seed -1 (or a time.time_ns() seed) resumes
    by the same command, and every seed becomes a velocity seed LAMMPS takes (a positive
    integer below 2^31, its manual's velocity create)."""
    from ionmd.protocols.run_settings import velocity_seed

    for seed in ("-1", "0", str(2**63 - 1)):
        check_protocol(_conductivity(seed=seed))
    seeds = {velocity_seed(s, t, r) for s in (-1, 0, 2**63 - 1) for t in (600.0, 900.0)
             for r in (0, 1)}
    assert len(seeds) == 12 and all(0 < v < 2**31 for v in seeds)


def test_a_whole_number_of_hundreds_of_digits_is_out_of_range_not_a_traceback():
    with pytest.raises(IonmdError) as err:
        check_protocol(_conductivity(replicas=str(10**400)))
    assert "replicas 100000... (401 digits) is out of range: give >= 1 and <= 1000" \
        in str(err.value)


def test_a_whole_number_in_exponent_notation_says_how_to_write_it():
    _, problems = apply_overrides(get_protocol("conductivity"), {"thermo_every": "1e9"})
    assert problems == [("thermo_every", f"thermo_every must be a whole number (got '1e9'): "
                                         f"write 1e9 in digits, {10**9}")]
    p, problems = apply_overrides(get_protocol("conductivity"), {"thermo_every": str(10**9)})
    assert not problems and p.thermo_every == 10**9
    _, problems = apply_overrides(get_protocol("conductivity"), {"thermo_every": "2.5"})
    assert problems == [("thermo_every", "thermo_every must be a whole number (got '2.5')")]


def test_the_run_option_name_of_a_field_is_suggested():
    _, problems = apply_overrides(get_protocol("conductivity"), {"temps": "600"})
    ((key, says),) = problems
    assert key == "temps" and "has no parameter 'temps'; did you mean 'temperatures'?" in says
