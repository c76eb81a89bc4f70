"""ModelLens's own protobuf messages, built from a descriptor at import time.

Equivalent ``.proto`` (package ``modellens``, proto3)::

    enum Kind { KIND_UNSPECIFIED = 0; CONFUSION_MATRIX = 1; DISTRIBUTIONS = 2; GRAPH = 3; ATTENTION = 4;
                CURVES = 5; PREDICTIONS = 6; HEATMAP = 7; }
    // SummaryMetadata.plugin_data.content of every ModelLens record; version is per kind.
    message PluginData { int32 version = 1; Kind kind = 2; }

    enum CountType { COUNT_TYPE_UNSPECIFIED = 0; UINT8 = 1; UINT16 = 2; UINT32 = 3; UINT64 = 4; }
    enum Compression { NONE = 0; ZLIB = 1; }
    // One step of a confusion matrix: the single element of a rank-1 DT_STRING tensor.
    message ConfusionMatrixStep {
      int32 num_classes = 1;
      repeated string class_names = 2;   // row/column order; empty means "0".."n-1"
      bytes counts = 3;                   // row-major [true, predicted], little-endian
      CountType count_type = 4;
      Compression compression = 5;
    }

    // One step of distributions: statistics of many tensors, packed as column arrays.
    message DistributionsStep {
      repeated string names = 1;          // tensor names, model order
      repeated string dtypes = 2;
      int32 bins = 3;                      // histogram bins per tensor
      CountType histogram_type = 4;        // element type of the histograms
      repeated string extra_names = 5;     // per-tensor scalar columns (update_ratio, ...)
      bytes arrays = 6;                    // little-endian, concatenated: ranks u1 [T], dims i8
                                           // [sum(ranks)], counts i8 [T, 5], values f8 [T, 5],
                                           // percentiles f8 [T, 7], histograms [T, bins],
                                           // extras f8 [E, T]
      Compression compression = 7;        // of arrays
    }

    // The first blob of an attention step (the others: thumbnails, then one blob per map; see
    // modellens.attention.wire for their byte layouts).
    message AttentionStep {
      int32 layers = 1;
      int32 heads = 2;
      int32 queries = 3;                   // as given, before block reduction
      int32 keys = 4;
      repeated string tokens = 5;          // one per key
      repeated string query_tokens = 6;    // one per query; empty for self-attention
      repeated string layer_names = 7;
      int32 row_block = 8;                 // queries per stored row (1: exact resolution)
      int32 col_block = 9;                 // keys per stored column
      int32 top_k = 10;                    // exact top keys kept per query row when blocked
      double max_error = 11;               // the largest quantization error of any stored value
      repeated string score_names = 12;
      bytes scores = 13;                   // little-endian f4 [layers, heads, score_names]
      bool rollout = 14;                   // a rollout map follows the layers' maps
      bool rollout_exact = 15;             // computed at token resolution (else per block)
      int32 thumbnail_rows = 16;
      int32 thumbnail_cols = 17;
      string quantization = 18;            // the storage policy, in words
    }

    // One named n-d array, little-endian; the kinds below keep their numbers in these.
    message Array {
      string name = 1;
      string dtype = 2;                    // numpy dtype string: "<f8", "<f4", "<u4", "<i8", "|u1" ...
      repeated int64 shape = 3;
      bytes data = 4;
      Compression compression = 5;
    }
    message Arrays { repeated Array arrays = 1; }   // a body blob of the kinds below

    // The header blob of a ROC/PR step (modellens.curves); blob 1 the micro curve, 2 + c class c.
    message CurvesStep {
      bool binary = 1;
      int64 samples = 2;
      repeated string class_names = 3;
      repeated Array arrays = 4;           // per-class numbers: auc, ap, positives, negatives, ...
      bool micro_exact = 5;
      int32 max_points = 6;
    }

    // The header blob of a predictions step (modellens.predictions); blob 1 its body.
    message PredictionsStep {
      string task = 1;                     // "regression" or "classification"
      int64 samples = 2;
      repeated string class_names = 3;
      repeated string ids = 4;
      repeated Array arrays = 5;
      bool exact_points = 6;
    }

    // The header blob of a tensor heatmap step (modellens.heatmap); blob 1 its cells.
    message HeatmapStep {
      repeated int64 shape = 1;            // of the tensor as given
      string dtype = 2;
      string layout = 3;                   // "row", "matrix", "kernels", "channels"
      int64 rows = 4;                      // of the 2-D image before block reduction
      int64 cols = 5;
      int64 row_block = 6;
      int64 col_block = 7;
      repeated int64 tile = 8;             // [tile_rows, tile_cols] of a grid layout
      repeated int64 grid = 9;             // [grid_rows, grid_cols] of a grid layout
      repeated Array arrays = 10;          // global statistics
      bool channels_last = 11;             // the tensor is [kh, kw, in, out] / [N, H, W, C]
      int64 batch_index = 12;              // the sample shown of a 4-D channels tensor (else 0)
      int64 channels = 13;                 // data tiles of a channels grid (else 0)
    }

Building the classes from a descriptor (instead of committing ``protoc`` output)
keeps them independent of the protobuf runtime's generated-code version.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(name="modellens/plugin_data.proto", package="modellens", syntax="proto3")

    def enum(name: str, values: list[str]) -> None:
        e = fdp.enum_type.add(name=name)
        for number, value in enumerate(values):
            e.value.add(name=value, number=number)

    def message(name: str, fields: list[tuple[str, int, int, str | None, bool]]) -> None:
        m = fdp.message_type.add(name=name)
        for field_name, number, field_type, type_name, repeated in fields:
            f = m.field.add(
                name=field_name,
                number=number,
                type=field_type,
                label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            )
            if type_name:
                f.type_name = type_name

    enum(
        "Kind",
        [
            "KIND_UNSPECIFIED",
            "CONFUSION_MATRIX",
            "DISTRIBUTIONS",
            "GRAPH",
            "ATTENTION",
            "CURVES",
            "PREDICTIONS",
            "HEATMAP",
        ],
    )
    enum("CountType", ["COUNT_TYPE_UNSPECIFIED", "UINT8", "UINT16", "UINT32", "UINT64"])
    enum("Compression", ["NONE", "ZLIB"])
    message(
        "PluginData",
        [
            ("version", 1, _F.TYPE_INT32, None, False),
            ("kind", 2, _F.TYPE_ENUM, ".modellens.Kind", False),
        ],
    )
    message(
        "ConfusionMatrixStep",
        [
            ("num_classes", 1, _F.TYPE_INT32, None, False),
            ("class_names", 2, _F.TYPE_STRING, None, True),
            ("counts", 3, _F.TYPE_BYTES, None, False),
            ("count_type", 4, _F.TYPE_ENUM, ".modellens.CountType", False),
            ("compression", 5, _F.TYPE_ENUM, ".modellens.Compression", False),
        ],
    )
    message(
        "DistributionsStep",
        [
            ("names", 1, _F.TYPE_STRING, None, True),
            ("dtypes", 2, _F.TYPE_STRING, None, True),
            ("bins", 3, _F.TYPE_INT32, None, False),
            ("histogram_type", 4, _F.TYPE_ENUM, ".modellens.CountType", False),
            ("extra_names", 5, _F.TYPE_STRING, None, True),
            ("arrays", 6, _F.TYPE_BYTES, None, False),
            ("compression", 7, _F.TYPE_ENUM, ".modellens.Compression", False),
        ],
    )
    message(
        "AttentionStep",
        [
            ("layers", 1, _F.TYPE_INT32, None, False),
            ("heads", 2, _F.TYPE_INT32, None, False),
            ("queries", 3, _F.TYPE_INT32, None, False),
            ("keys", 4, _F.TYPE_INT32, None, False),
            ("tokens", 5, _F.TYPE_STRING, None, True),
            ("query_tokens", 6, _F.TYPE_STRING, None, True),
            ("layer_names", 7, _F.TYPE_STRING, None, True),
            ("row_block", 8, _F.TYPE_INT32, None, False),
            ("col_block", 9, _F.TYPE_INT32, None, False),
            ("top_k", 10, _F.TYPE_INT32, None, False),
            ("max_error", 11, _F.TYPE_DOUBLE, None, False),
            ("score_names", 12, _F.TYPE_STRING, None, True),
            ("scores", 13, _F.TYPE_BYTES, None, False),
            ("rollout", 14, _F.TYPE_BOOL, None, False),
            ("rollout_exact", 15, _F.TYPE_BOOL, None, False),
            ("thumbnail_rows", 16, _F.TYPE_INT32, None, False),
            ("thumbnail_cols", 17, _F.TYPE_INT32, None, False),
            ("quantization", 18, _F.TYPE_STRING, None, False),
        ],
    )
    message(
        "Array",
        [
            ("name", 1, _F.TYPE_STRING, None, False),
            ("dtype", 2, _F.TYPE_STRING, None, False),
            ("shape", 3, _F.TYPE_INT64, None, True),
            ("data", 4, _F.TYPE_BYTES, None, False),
            ("compression", 5, _F.TYPE_ENUM, ".modellens.Compression", False),
        ],
    )
    message("Arrays", [("arrays", 1, _F.TYPE_MESSAGE, ".modellens.Array", True)])
    message(
        "CurvesStep",
        [
            ("binary", 1, _F.TYPE_BOOL, None, False),
            ("samples", 2, _F.TYPE_INT64, None, False),
            ("class_names", 3, _F.TYPE_STRING, None, True),
            ("arrays", 4, _F.TYPE_MESSAGE, ".modellens.Array", True),
            ("micro_exact", 5, _F.TYPE_BOOL, None, False),
            ("max_points", 6, _F.TYPE_INT32, None, False),
        ],
    )
    message(
        "PredictionsStep",
        [
            ("task", 1, _F.TYPE_STRING, None, False),
            ("samples", 2, _F.TYPE_INT64, None, False),
            ("class_names", 3, _F.TYPE_STRING, None, True),
            ("ids", 4, _F.TYPE_STRING, None, True),
            ("arrays", 5, _F.TYPE_MESSAGE, ".modellens.Array", True),
            ("exact_points", 6, _F.TYPE_BOOL, None, False),
        ],
    )
    message(
        "HeatmapStep",
        [
            ("shape", 1, _F.TYPE_INT64, None, True),
            ("dtype", 2, _F.TYPE_STRING, None, False),
            ("layout", 3, _F.TYPE_STRING, None, False),
            ("rows", 4, _F.TYPE_INT64, None, False),
            ("cols", 5, _F.TYPE_INT64, None, False),
            ("row_block", 6, _F.TYPE_INT64, None, False),
            ("col_block", 7, _F.TYPE_INT64, None, False),
            ("tile", 8, _F.TYPE_INT64, None, True),
            ("grid", 9, _F.TYPE_INT64, None, True),
            ("arrays", 10, _F.TYPE_MESSAGE, ".modellens.Array", True),
            ("channels_last", 11, _F.TYPE_BOOL, None, False),
            ("batch_index", 12, _F.TYPE_INT64, None, False),
            ("channels", 13, _F.TYPE_INT64, None, False),
        ],
    )
    return fdp


_POOL = descriptor_pool.DescriptorPool()
_CLASSES = message_factory.GetMessages([_file_descriptor()], pool=_POOL)

PluginData = _CLASSES["modellens.PluginData"]
ConfusionMatrixStep = _CLASSES["modellens.ConfusionMatrixStep"]
DistributionsStep = _CLASSES["modellens.DistributionsStep"]
AttentionStep = _CLASSES["modellens.AttentionStep"]
Array = _CLASSES["modellens.Array"]
Arrays = _CLASSES["modellens.Arrays"]
CurvesStep = _CLASSES["modellens.CurvesStep"]
PredictionsStep = _CLASSES["modellens.PredictionsStep"]
HeatmapStep = _CLASSES["modellens.HeatmapStep"]
KIND = _POOL.FindEnumTypeByName("modellens.Kind")
COUNT_TYPE = _POOL.FindEnumTypeByName("modellens.CountType")
COMPRESSION = _POOL.FindEnumTypeByName("modellens.Compression")
