"""Exporters from model families to the ionmd model-file contract (see ``contract``)."""

from ionmd.export.contract import FORMAT_VERSION, ModelMetadata, read_metadata
from ionmd.export.mace import export_mace
from ionmd.export.sevennet import export_sevennet

__all__ = ["FORMAT_VERSION", "ModelMetadata", "read_metadata", "export_mace", "export_sevennet"]
