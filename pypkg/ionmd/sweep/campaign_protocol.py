"""A campaign's ``[protocol]`` table (and the protocol keys that may stand at the top
level): a preset of :data:`ionmd.protocols.presets.PRESETS` with its overrides, checked by
the rules ``ionmd run`` and the Python API apply, each problem on the line of its key."""

from __future__ import annotations

import re

from ionmd.errors import IonmdError
from ionmd.protocols.checks import apply_overrides, check_protocol
from ionmd.protocols.presets import PRESETS, Protocol
from ionmd.protocols.setting_values import field_name
from ionmd.sweep.campaign_paths import campaign_path
from ionmd.sweep.campaign_problems import Problems
from ionmd.sweep.source import Source

TOP_PROTOCOL_KEYS = ("temperatures", "replicas", "seed")   # may stand outside [protocol]
# the presets a campaign runs (an E-V scan is `ionmd run ev-scan`, one per structure)
MD_PRESETS = tuple(name for name, preset in PRESETS.items() if preset.family == "md")


def read_protocol(src: Source, errors: Problems) -> Protocol | None:
    """The campaign's protocol, or None where it cannot be built (said in ``errors``)."""
    table = src.data.get("protocol")
    if isinstance(table, str):
        table = {"name": table}
    if not isinstance(table, dict) or "name" not in table:
        errors.add(("protocol",), f"protocol: give a [protocol] table with name = one of "
                                  f"{', '.join(MD_PRESETS)} (and any parameter to override)")
        return None
    name = table["name"]
    if not isinstance(name, str) or name not in PRESETS:
        errors.add(("protocol", "name"), f"unknown protocol {name!r}; choose one of "
                                         f"{', '.join(MD_PRESETS)}")
        return None
    if PRESETS[name].family != "md":
        errors.add(("protocol", "name"), f"protocol {name!r} is not an MD protocol; campaigns run "
                                         f"MD presets (E-V scans: `ionmd run {name}` per structure)")
        return None
    overrides = _overrides(src, errors, table)
    return _checked_protocol(src, errors, name, overrides)


def _overrides(src: Source, errors: Problems, table: dict) -> dict:
    """The parameters the file sets over the preset: ``[protocol]``'s (lists as tuples, a
    template path read from the campaign file's folder) and the top-level ones."""
    overrides = {}
    for key, value in table.items():
        if key == "name":
            continue
        overrides[key] = tuple(value) if isinstance(value, list) else value
    if isinstance(overrides.get("template"), str):   # relative to the campaign file
        template = campaign_path(src.path.resolve().parent, overrides["template"]).resolve()
        if not template.is_file():
            errors.add(("protocol", "template"), f"input template {template} not found (a "
                                                 f"relative path is read from the campaign "
                                                 f"file's folder)")
            overrides.pop("template")       # said here, with the folder it was looked for in
        else:
            overrides["template"] = str(template)
    for key in TOP_PROTOCOL_KEYS:
        if key in src.data:
            if key in table:
                errors.add(("protocol", key), f"{key} is given both at the top level (line "
                                              f"{src.line(key)}) and in [protocol]; keep one")
            overrides[key] = src.data[key]
    return overrides


def _checked_protocol(src: Source, errors: Problems, name: str,
                      overrides: dict) -> Protocol | None:
    """Preset ``name`` with ``overrides`` by the rules of :mod:`ionmd.protocols.checks`,
    as ``ionmd run`` and the Python API apply them, each problem on the line of its key."""
    protocol, problems = apply_overrides(PRESETS[name], overrides)
    for key, message in problems:
        top = key in src.data and key in TOP_PROTOCOL_KEYS
        if not top and message.startswith(f"{field_name(key)} must be "):
            message = "protocol." + message
        if key == "max_time" and "add until" in message:
            message += _old_max_time_note(overrides[key])
        errors.add((key,) if top else ("protocol", key), message)
    if problems:
        return None
    try:    # types were checked by apply_overrides: what is left are settings that clash
        check_protocol(protocol)
    except IonmdError as exc:
        # name the line of the parameter the message is about, if it is in the file
        said = {k: _said(k, str(exc)) for k in overrides}
        hit = next((k for k in overrides if re.search(rf"\b{k}\b", str(exc))), None) or \
            min((k for k in said if said[k] >= 0), key=said.get, default=None)
        where = (hit,) if hit in src.data else (("protocol", hit) if hit else ("protocol", "name"))
        errors.add(where, f"protocol {name!r}: {exc}")
        return None
    return protocol


def _old_max_time_note(value) -> str:
    """What an old campaign file's ``max_time`` without ``until`` meant, and the line that
    says it now: campaigns read it as the runs' fixed length until the protocol rules
    became one for ``ionmd run``, the API and campaigns (70d4b5d)."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return (f". A campaign file written before read max_time without until as the runs' "
            f"fixed length: for that, replace max_time = {text} with time = {text} (runs "
            f"already written with it are kept: their length is the same)")


def _said(key: str, message: str) -> int:
    """Where ``message`` first speaks of ``key``, also in words (``timestep_fs`` as "time
    step", ``check_every`` as "check every": spaces, underscores and the unit dropped);
    -1 if it does not (of keys named only in words, the first is the one meant)."""
    def squeeze(text):
        return re.sub(r"[\s_]", "", text.lower())

    return squeeze(message).find(squeeze(re.sub(r"_(fs|ps|K|bar)$", "", key)))
