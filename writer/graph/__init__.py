"""Structure graphs: a torch or Keras model's modules, the ops between them and the dataflow,
captured once and stored as one compact blob per step.

A step is one ``Summary.Value`` of ``DATA_CLASS_BLOB_SEQUENCE`` whose tensor is a rank-1
``DT_STRING`` tensor of one element: the gzip-compressed compact JSON of ``wire.Graph`` (a
string table and column arrays; see ``modellens.graph.wire``). The plugin reads it through
``read_blob`` only when the Structure view asks for that step.

Captures live beside the wire format: ``torch_capture`` (module hooks plus a
``TorchFunctionMode`` recording the ops between modules, on the real inputs; the module tree
alone without inputs) and ``keras_capture`` (the symbolic DAG of Functional and Sequential
models, one eager call for subclassed ones). Each imports its framework only when given one of
its models.
"""

from __future__ import annotations

import sys
from typing import Any

from tensorboard.compat.proto import summary_pb2

from modellens import _metadata, _packing
from modellens.graph.wire import Graph, GraphBuilder, from_bytes, to_bytes

KIND = "GRAPH"
#: The newest format of this kind that this code writes and reads.
VERSION = 1
DATA_CLASS = summary_pb2.DATA_CLASS_BLOB_SEQUENCE

__all__ = ["Graph", "GraphBuilder", "from_input", "encode", "decode", "KIND", "VERSION", "DATA_CLASS"]


def _is_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _is_keras_model(model: Any) -> bool:
    if not any(c.__module__.startswith(("keras", "tf_keras", "tensorflow")) for c in type(model).__mro__):
        return False
    import keras

    return isinstance(model, keras.layers.Layer)


def from_input(model: Any, inputs: Any = None) -> Graph:
    """The graph of ``model`` (a ``torch.nn.Module`` or a Keras 3 model). With ``inputs`` the
    model runs once on them and every call, op and edge is recorded; without, torch models give
    their module tree with parameters and no edges. The model is left as it was. A ``Graph``
    (captured already) is taken as it is."""
    if isinstance(model, Graph):
        if inputs is not None:
            raise ValueError("inputs must be None when model is an already captured modellens.graph.Graph")
        return model
    if _is_torch_module(model):
        from modellens.graph import torch_capture

        return torch_capture.capture(model, inputs)
    if _is_keras_model(model):
        from modellens.graph import keras_capture

        return keras_capture.capture(model, inputs)
    raise TypeError(
        f"model must be a torch.nn.Module or a Keras 3 model, got {type(model).__module__}.{type(model).__name__}"
    )


def encode(tag: str, data: Graph) -> summary_pb2.Summary.Value:
    """The ``Summary.Value`` that stores one graph as a blob."""
    return summary_pb2.Summary.Value(
        tag=tag,
        metadata=_metadata.summary_metadata(KIND, VERSION, DATA_CLASS),
        tensor=_packing.string_tensor(to_bytes(data)),
    )


def decode(value: Any) -> Graph:
    """Reads one graph back from what a data provider returns (its one blob, as a 1-element
    bytes array). Raises ``UnreadableRecord`` for anything that is not a well-formed graph."""
    return from_bytes(_packing.single_string(value, "graph"))
