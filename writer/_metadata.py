"""What every ModelLens record carries: the plugin name and a versioned ``PluginData``."""

from __future__ import annotations

import logging

from tensorboard.compat.proto import summary_pb2

from modellens import _proto

PLUGIN_NAME = "modellens"
#: The newest ``PluginData.version`` this code writes and understands.
PROTOCOL_VERSION = 1

_logger = logging.getLogger(__name__)
_warned_versions: set[int] = set()


class UnreadableRecord(ValueError):
    """Raised by decoders for data that is not ModelLens's, or too new, or malformed."""


def kind_number(kind_name: str) -> int:
    return _proto.KIND.values_by_name[kind_name].number


def summary_metadata(kind_name: str, data_class: int) -> summary_pb2.SummaryMetadata:
    """The metadata of a record of the given kind (``CONFUSION_MATRIX``, ...)."""
    content = _proto.PluginData(version=PROTOCOL_VERSION, kind=kind_number(kind_name))
    metadata = summary_pb2.SummaryMetadata(data_class=data_class)
    metadata.plugin_data.plugin_name = PLUGIN_NAME
    metadata.plugin_data.content = content.SerializeToString()
    return metadata


def parse_plugin_data(content: bytes) -> "_proto.PluginData":
    """Parses a record's plugin content; raises ``UnreadableRecord`` for newer or broken data.

    A version newer than ours is logged once per process, as TensorBoard's own plugins do.
    """
    try:
        data = _proto.PluginData.FromString(content)
    except Exception as error:  # protobuf raises DecodeError and others
        raise UnreadableRecord(f"plugin content is not a ModelLens PluginData: {error}") from None
    if data.version > PROTOCOL_VERSION:
        if data.version not in _warned_versions:
            _warned_versions.add(data.version)
            _logger.warning(
                "Skipping ModelLens data of version %d; this ModelLens reads up to version %d. "
                "Upgrade modellens to see it.",
                data.version,
                PROTOCOL_VERSION,
            )
        raise UnreadableRecord(f"version {data.version} is newer than {PROTOCOL_VERSION}")
    if data.version < 1:
        raise UnreadableRecord("plugin content has no version")
    return data
