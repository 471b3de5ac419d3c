"""Paths as a campaign file gives them, and what the runs already in its output folder
recorded (their settings.json): how models and structures keep their run folders."""

from __future__ import annotations

import json
import os
from pathlib import Path


def campaign_path(base: Path, text: str) -> Path:
    """A path as a campaign file gives it: ``~`` is the home folder (as in a shell), a
    relative path is read from the campaign file's folder ``base``.

    ``~`` stays a plain name where a shell keeps it too (``~nosuchuser``, no home folder
    known) and where ``base`` holds that path already: earlier versions read
    ``output = "~/runs"`` as ``<base>/~/runs``, and a campaign resumed from such a file
    goes on in the folder its runs are in."""
    literal = base / text
    if text.startswith("~") and not literal.exists():
        try:
            return Path(text).expanduser()
        except RuntimeError:        # no such user, or no home folder: a shell keeps it
            pass
    return Path(text) if os.path.isabs(text) else literal


def recorded_settings(output: Path, structure: str, model: str) -> list[dict]:
    """The settings.json of every run under ``output/<structure>/<model>/`` (glob patterns,
    ``*`` for any), in path order; half-written folders are skipped."""
    out = []
    for settings in sorted(output.glob(f"{structure}/{model}/*/T*K/r*/settings.json")):
        try:
            out.append(json.loads(settings.read_text()))
        except (OSError, ValueError):
            continue
    return out
