"""ionmd resolves SevenNet pretrained names from its own table (sevennet._PRETRAINED, so
that it never downloads); the reference is sevenn's own resolver,
sevenn.util.pretrained_name_to_path, run here with its download replaced. A sevenn
release that adds a pretrained model (a new sevenn._const.SEVENNET_* path) or maps a name
elsewhere makes these fail, instead of ionmd calling that name 'neither a file nor a
SevenNet pretrained name'."""

import pytest

from ionmd.export.sevennet import _PRETRAINED, _pretrained_attribute

sevenn_const = pytest.importorskip("sevenn._const")
sevenn_util = pytest.importorskip("sevenn.util")

NAMES = [prefix + key for key in _PRETRAINED for prefix in ("7net-", "SevenNet-")]


@pytest.fixture
def sevenn_resolver(monkeypatch):
    """sevenn's resolver, its download answering the path it would download to."""
    monkeypatch.setattr(sevenn_util, "download_checkpoint", lambda path, url: path)
    return sevenn_util.pretrained_name_to_path


def _wheel_path(resolved: str) -> str:
    """A path of sevenn's resolver as the wheel's path (it may answer the download cache)."""
    import os.path

    cache = os.path.expanduser("~/.cache/sevennet")
    return resolved.replace(cache, sevenn_const._prefix) if resolved.startswith(cache) else resolved


@pytest.mark.parametrize("name", NAMES)
def test_each_name_is_sevenns_model(name, sevenn_resolver):
    assert getattr(sevenn_const, _pretrained_attribute(name)) == _wheel_path(sevenn_resolver(name))


def test_every_pretrained_model_of_sevenn_has_a_name():
    models = {a for a in dir(sevenn_const)
              if a.startswith("SEVENNET_") and isinstance(getattr(sevenn_const, a), str)
              and getattr(sevenn_const, a).startswith(sevenn_const._prefix)}
    assert models, "sevenn._const lists no pretrained checkpoint paths"
    assert models <= set(_PRETRAINED.values())
