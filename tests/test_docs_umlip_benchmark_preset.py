"""docs/presets.md's `umlip-benchmark` section states every setting the preset's MD input
takes that the paper (seed 003, Sec. 2.2) does not give: audit A24 found the barostat's bulk
modulus (`fix press/berendsen ... modulus`, which sets the volume's relaxation time with
tau_P) written into every run without a word in the docs."""

from __future__ import annotations

import re
from pathlib import Path

from ionmd.protocols.presets import PRESETS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "presets.md"


def _section(name: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"## `{name}`")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_umlip_benchmark_section_states_the_barostat_modulus_the_preset_writes():
    preset = PRESETS["umlip-benchmark"]
    section = _section("umlip-benchmark")
    assert preset.ensemble == "npt" and preset.thermostat == "berendsen"
    gpa = preset.berendsen_modulus_bar / 1e4        # 1 GPa = 1e4 bar
    assert re.search(rf"\b{gpa:g} GPa\b", section), section
    assert f"modulus {preset.berendsen_modulus_bar}" in section   # as md.lmp writes it
    assert "berendsen_modulus_bar" in section
    # the section's tau_P and the time constant it derives from it (tau_P x modulus / B)
    assert re.search(rf"\b{preset.pdamp_fs:g} fs\b", section.replace(",", ""))
    b_gpa = 20.0
    assert f"~{preset.pdamp_fs * gpa / b_gpa:g} fs for a {b_gpa:g} GPa" in section


def test_umlip_benchmark_section_states_the_papers_settings_the_preset_uses():
    preset = PRESETS["umlip-benchmark"]
    section = _section("umlip-benchmark")
    assert f"{preset.timestep_fs:g} fs" in section
    assert f"Berendsen thermostat {preset.tdamp_fs:g} fs" in section
    assert f"barostat {preset.pdamp_fs:g} fs" in section
    assert f"{preset.duration_ps / 1000:g} ns" in section
    assert f"{preset.discard_ps:g} ps discarded" in section
    temps = ", ".join(f"{t:g}" for t in preset.temperatures[:-1])
    assert f"{temps} and {preset.temperatures[-1]:g} K" in section
    assert f"`{preset.couple}`" in section and preset.supercell in section
