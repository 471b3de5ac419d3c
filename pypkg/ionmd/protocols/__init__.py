"""Simulation protocols: presets as data, LAMMPS inputs from ``inputs/`` templates, run
directories with status, restarts and resume, and the E-V scan."""

from ionmd.protocols.evscan import EVResult, analyse_ev, run_ev_scan
from ionmd.protocols.execute import execute, launch, wait_run
from ionmd.protocols.plan import plan_runs, run_all
from ionmd.lammps.data_file import write_data
from ionmd.protocols.checks import check_protocol
from ionmd.protocols.prepare import element_order
from ionmd.protocols.presets import PRESETS, Protocol, get_protocol, parse_temperatures, parse_time_ps
from ionmd.protocols.rundir import RunDir

__all__ = ["EVResult", "PRESETS", "Protocol", "RunDir", "analyse_ev", "check_protocol",
           "element_order", "execute", "get_protocol", "launch",
           "parse_temperatures", "parse_time_ps", "plan_runs", "run_all", "run_ev_scan",
           "wait_run", "write_data"]
