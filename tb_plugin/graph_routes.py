"""HTTP routes of the Structure view. Thin: parse, read, respond; the view lays out and lifts."""

from __future__ import annotations

from typing import Any

from modellens.tb_plugin.data import Step
from modellens.tb_plugin.routes import KindRoutes


class GraphRoutes(KindRoutes):
    slug = "graph"

    @staticmethod
    def summarize(item: Step) -> dict[str, Any]:
        """The size of a logged graph, so the view can offer its steps (a model changed by
        pruning or surgery is logged again at a later step)."""
        graph = item.value
        return {"nodes": graph.node_count, "edges": len(graph.edge_shapes), "params": graph.totals["params"]}

    @staticmethod
    def detail(item: Step) -> dict[str, Any]:
        """One graph in full, in its compact column form (``modellens.graph.wire``)."""
        return {"step": item.step, "wall_time": item.wall_time, "graph": item.value.to_json()}
