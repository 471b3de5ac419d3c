"""Host allocator settings: the plugin and ``ionmd.host_memory`` keep freed memory unless
the user tuned malloc, and the setting really stops the per-block mmap/munmap churn."""

import subprocess
import sys
import textwrap

import pytest

from ionmd.host_memory import keep_freed_host_memory

# One "model call" = several large tensors (40-64 MB, above glibc's largest mmap threshold)
# alive together, then all freed; five calls. With glibc's default every block is a fresh
# mmap, faulted in again on every call; with freed memory kept, the blocks of a call
# coalesce in the heap and the next calls mostly reuse them.
CHURN = textwrap.dedent("""
    import resource, sys
    sys.path[:0] = {path!r}
    if {keep}:
        from ionmd.host_memory import keep_freed_host_memory
        assert keep_freed_host_memory()
    import torch
    def call():
        blocks = [torch.ones(mb << 17, dtype=torch.float64) for mb in (40, 48, 56, 64)]
        del blocks
    call()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        call()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _faults(keep: bool, env: dict | None = None) -> int:
    code = CHURN.format(path=sys.path, keep=keep)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_kept_memory_stops_page_fault_churn():
    churn, kept = _faults(False), _faults(True)
    pages_per_call = (208 << 20) // 4096
    assert churn > 4 * pages_per_call            # ~every call faulted in again
    assert kept < churn / 2                      # mostly reused (measured: 45-80k vs 266k)


def test_user_malloc_settings_win(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_MAX_", "65536")
    assert keep_freed_host_memory() is False
    monkeypatch.delenv("MALLOC_MMAP_MAX_")
    monkeypatch.setenv("IONMD_SYSTEM_MALLOC", "1")
    assert keep_freed_host_memory() is False


def test_plugin_keeps_freed_memory_unless_told_not_to(tmp_path):
    """The pair style applies the setting (and says so) by default, not under
    IONMD_SYSTEM_MALLOC; the physics is the same either way."""
    from ase.build import bulk

    from contract_models import ALPHA, D0, R0, RC, MorseEdgeModel, save_contract_model
    from lammps_runner import run_lmp, write_data

    model = save_contract_model(MorseEdgeModel(D0, ALPHA, R0, RC), tmp_path / "m.pt", cutoff=RC,
                                elements=["Cl", "Li"], num_layers=1)
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=1)
    write_data(atoms, tmp_path / "s.data", ["Cl", "Li"])
    script = (f"units metal\natom_style atomic\natom_modify map yes\nread_data ../s.data\n"
              f"pair_style ionmd {model}\npair_coeff * * Cl Li\n"
              "thermo_style custom step pe press\nthermo_modify format float %.15g\nrun 0\n")
    said = "host allocator keeps freed memory"
    kept = run_lmp(script, tmp_path / "kept").stdout
    system = run_lmp(script, tmp_path / "sys", env={"IONMD_SYSTEM_MALLOC": "1"}).stdout
    assert said in kept and said not in system

    def thermo(log):
        return [l for l in log.splitlines() if l.strip().startswith("0 ")]
    assert thermo(kept) == thermo(system) and thermo(kept)
