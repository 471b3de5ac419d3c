"""What `ionmd analyze` prints of results the analysis marks: a kinisi fit that means nothing
(its ``fit_problem``) reads NOT A RESULT as the least-squares fit does, a failure with no
recorded temperature says the temperature is unknown, and a ramp run says why it has no D."""
from pathlib import Path

from ionmd.cli.analyze import _print_kinisi, _print_run


def test_a_kinisi_fit_with_a_problem_prints_no_activation_energy(capsys):
    _print_kinisi({"kinisi": {"Ea_eV": 0.65, "Ea_ci95": [0.1, 1.2],
                              "fit_problem": "the 300 K interval spans 33 decades"}})
    out = capsys.readouterr().out
    assert "NOT A RESULT: the 300 K interval spans 33 decades" in out
    assert "0.650" not in out
    _print_kinisi({"kinisi": {"Ea_eV": 0.25, "Ea_ci95": [0.2, 0.3]}})
    assert "Ea = 0.250 eV [0.200, 0.300]" in capsys.readouterr().out


def _failed(temperature):
    return {"failed": True, "modes": ["melting"],
            "first": {"mode": "melting", "step": 4000, "time_ps": 4.0,
                      "temperature_K": temperature, "target_temperature_K": 1425.0}}


def test_a_failure_without_its_temperature_says_unknown_and_a_ramp_says_why(capsys):
    _print_run(Path("r0"), {"failure": _failed(None)})
    assert "T unknown, target 1425.0 K" in capsys.readouterr().out
    _print_run(Path("r0"), {"failure": _failed(786.5)})
    assert "T = 786.5 K, target 1425.0 K" in capsys.readouterr().out
    why = "thermostat ramped from 300 to 2100 K: D and sigma over the ramp are of no one temperature"
    _print_run(Path("r1"), {"failure": {"failed": False, "run_end_ps": 10.0},
                            "no_transport": why, "diffusion": []})
    assert why in capsys.readouterr().out
