"""SevenNet pretrained names resolve to their checkpoint files without any download.

sevenn.util.pretrained_name_to_path downloads the names it knows but the wheel does
not ship (7net-omni, 7net-omat, 7net-mf-ompa): without a network that failed and was
reported as "neither a file nor a SevenNet pretrained name", with one it would have
downloaded at run time. The reference is sevenn's own table (sevenn._const): its paths
and download links.
"""

import socket

import pytest

from ionmd.errors import ExportError
from ionmd.export.sevennet import resolve_checkpoint

sevenn_const = pytest.importorskip("sevenn._const")

NOT_SHIPPED = {"7net-omni": "SEVENNET_omni", "7net-omat": "SEVENNET_omat",
               "7net-mf-ompa": "SEVENNET_MF_ompa"}
SHIPPED = ["7net-0", "SevenNet-0", "7net-0_22May2024", "7net-l3i5", "7NET-MF-0"]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network, and an empty home (no sevenn download cache)."""
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("name", list(NOT_SHIPPED))
def test_known_name_not_in_the_wheel_says_where_to_get_it(name, offline):
    shipped = getattr(sevenn_const, NOT_SHIPPED[name])
    url = sevenn_const.CHECKPOINT_DOWNLOAD_LINKS[shipped]
    with pytest.raises(ExportError) as info:
        resolve_checkpoint(name)
    message = str(info.value)
    assert "not shipped in the installed sevenn wheel" in message
    assert url in message and "pass the path" in message
    assert "neither a file" not in message


def test_name_in_the_download_cache_is_used(offline):
    shipped = sevenn_const.SEVENNET_omni
    cached = offline / ".cache" / "sevennet" / shipped[len(sevenn_const._prefix):].lstrip("/")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"checkpoint")
    assert resolve_checkpoint("7net-omni") == cached


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_names_resolve_as_sevenn_does(name, offline):
    from sevenn.util import pretrained_name_to_path

    assert resolve_checkpoint(name).samefile(pretrained_name_to_path(name))


def test_unknown_name_lists_the_names(offline):
    with pytest.raises(ExportError, match="neither a file nor a SevenNet pretrained name.*7net-omni"):
        resolve_checkpoint("7net-nonsense")
