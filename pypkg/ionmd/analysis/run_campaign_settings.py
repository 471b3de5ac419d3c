"""The analysis settings a campaign's ``[analysis]`` gives its runs, carried by each run
folder (``campaign_analysis.json``), so that ``ionmd analyze RUN`` of a campaign's run
fits and flags it as ``ionmd sweep collect`` does (the same D, interval, flags and sigma).

Written by every command that reads the campaign's runs (``plan``, ``submit``, ``status``,
``collect``: :func:`ionmd.sweep.plan.plan_campaign`), rewritten where ``[analysis]`` changed
(an analysis setting, not a setting of the run: the run is kept). A file of its own, not
keys of ``run.json``: a launch writes ``run.json`` whole again (it would drop them), and
collect's cache digests ``run.json`` (every run's analysis would be redone for settings
its cache key holds already). ``ionmd analyze`` takes a flag given over the file's value,
the file's over its own default, and says which came from where."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from ionmd.errors import AnalysisError

CAMPAIGN_SETTINGS = "campaign_analysis.json"
SCHEMA = "ionmd-campaign-analysis/1"
FIT_KEYS = ("fit_start_ps", "fit_end_ps", "window_ps", "haven_ratio")
FAILURE_KEYS = ("volume_limit", "runaway_factor", "melt_fraction", "collapse_fraction")


def campaign_settings_record(campaign: str | Path, settings: dict) -> dict:
    """The file's contents: the campaign file's path and ``settings`` (:data:`FIT_KEYS`,
    ``fit_end_ps`` None for half of the run, and ``failure``: the thresholds collect
    passes, those left out at the analysis' defaults)."""
    return {"schema": SCHEMA, "campaign": str(campaign),
            **{k: settings[k] for k in FIT_KEYS},
            "failure": {k: float(v) for k, v in sorted(settings["failure"].items())}}


def write_campaign_settings(run_dir: str | Path, record: dict) -> bool:
    """Write ``record`` (:func:`campaign_settings_record`) into ``run_dir`` where the file
    does not hold it already (whole: a temporary file renamed); whether it was written."""
    path = Path(run_dir) / CAMPAIGN_SETTINGS
    try:
        if json.loads(path.read_text()) == record:
            return False
    except (OSError, ValueError):
        pass
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, path)
    return True


def read_campaign_settings(run_dir: str | Path) -> dict | None:
    """The campaign's settings ``run_dir`` carries; None where it carries none (a hand run,
    or a campaign's run planned by an older ionmd: :func:`missing_settings_note`).

    Raises
    ------
    AnalysisError
        Where the file is no such record (damaged, or of a newer ionmd), naming it and how
        to write it again."""
    path = Path(run_dir) / CAMPAIGN_SETTINGS
    if not path.is_file():
        return None
    fix = ("run `ionmd sweep plan CAMPAIGN` to write it again, or delete it and give the "
           "analysis settings as flags")
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AnalysisError(f"{path} cannot be read ({exc}); {fix}") from None
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        schema = record.get("schema") if isinstance(record, dict) else None
        raise AnalysisError(f"{path} is not a {SCHEMA} record (schema {schema!r}); {fix}")
    failure = record.get("failure", {})
    values = {**{k: record.get(k) for k in FIT_KEYS},
              **(failure if isinstance(failure, dict) else {"failure": failure})}
    bad = [f"{k} = {v!r}" for k, v in values.items()
           if k not in FIT_KEYS + FAILURE_KEYS
           or not (_positive(v) or (v is None and k == "fit_end_ps"))]
    if bad:
        raise AnalysisError(f"{path}: {', '.join(bad)} is no positive number of the "
                            f"campaign's [analysis]; {fix}")
    return record


def _positive(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and v > 0)


def missing_settings_note(run_dir: str | Path) -> str | None:
    """Where ``run_dir`` is a campaign's run (it holds ``sweep.json``, a submission's
    claim) without the campaign's settings (planned by an older ionmd): that the
    analysis uses its own defaults, and how to get collect's; else None."""
    run_dir = Path(run_dir)
    if not (run_dir / "sweep.json").is_file() or (run_dir / CAMPAIGN_SETTINGS).is_file():
        return None
    return (f"this campaign run holds no {CAMPAIGN_SETTINGS} (planned by an older ionmd): "
            f"its campaign's [analysis] (fit_start_ps, fit_end_ps, window_ps, haven_ratio, "
            f"failure thresholds) is not known here, so the defaults and flags are used and "
            f"D may differ from what `ionmd sweep collect` reports; run `ionmd sweep plan "
            f"CAMPAIGN` (or status, collect) once to write it")


def settings_for(run_dir: str | Path, given: dict) -> tuple[dict, str | None]:
    """The analysis settings of ``run_dir`` (:data:`FIT_KEYS` and :data:`FAILURE_KEYS`):
    each one's flag where ``given`` holds it (not None), else its campaign's (the file),
    else None (the analysis' own default); and a note saying where they came from (None
    where the folder carries no campaign settings and is no campaign's run: a hand run).

    Raises
    ------
    AnalysisError
        Where the folder's file cannot be read (:func:`read_campaign_settings`)."""
    record = read_campaign_settings(run_dir)
    if record is None:
        return dict(given), missing_settings_note(run_dir)
    campaign = {**{k: record.get(k) for k in FIT_KEYS}, **record.get("failure", {})}
    values, from_flags, from_campaign = {}, [], []
    for key, flag in given.items():
        if flag is not None:
            values[key] = flag
            if key in campaign and campaign[key] != flag:
                from_flags.append(f"{key} {flag:g} (the campaign's: {_said(campaign[key])})")
        else:
            values[key] = campaign.get(key)
            if key in campaign:
                from_campaign.append(f"{key} {_said(campaign[key])}")
    note = (f"analysed with its campaign's [analysis] ({record.get('campaign')}, as "
            f"`ionmd sweep collect` analyses it; {CAMPAIGN_SETTINGS}): "
            f"{', '.join(from_campaign) or 'none'}")
    if from_flags:
        note += f"; flags given in their place: {', '.join(from_flags)}"
    return values, note


def _said(value) -> str:
    return "half of the run (none given)" if value is None else f"{value:g}"
