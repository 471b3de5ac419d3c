"""The goal's allocator fits each run's Nernst-Einstein sigma T (mS K/cm), or, without
charges, the D of its one mobile species (cm^2/s); its messages on a run left out named
neither ("the fitted value", no unit). Now the goal passes what it fits, so a non-diffusing
run's note names the quantity in its unit."""

from ionmd.sweep.allocate import TemperatureRun
from ionmd.sweep.goal import series_point, series_quantity

LI_D = {"direction": "xyz", "species": "Li", "D": -7.0e-6, "D_ci95": [0.0, 0.0],
        "flags": [], "n_ions": 16}


def _run(res: dict) -> TemperatureRun:
    res = {**res, "temperature_K": 600.0}
    point = series_point(res)
    quantity, unit = series_quantity(res)
    return TemperatureRun(temperature_K=600.0, time_ps=10.0, D=point.value, D_ci95=point.ci95,
                          cost_per_ps=1.0, key="runs/600K", quantity=quantity, unit=unit)


def test_without_charges_the_note_names_d_of_the_mobile_species():
    why = _run({"diffusion": [LI_D]}).why_left_out()
    assert "D of Li" in why and "cm^2/s" in why and "600 K" in why and "runs/600K" in why


def test_with_charges_the_note_names_sigma_t_in_its_unit():
    res = {"diffusion": [LI_D], "conductivity": {"sigma": -0.1, "sigma_ci95": [0.0, 0.0]}}
    point = series_point({**res, "temperature_K": 600.0})
    assert point.value == -0.1 * 600.0          # sigma T, as collect fits it
    why = _run(res).why_left_out()
    assert "sigma T" in why and "mS K/cm" in why and "cm^2/s" not in why
