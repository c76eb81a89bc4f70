"""The ModelLens ``TBPlugin``: one tab, routes per summary kind, the dashboard bundle."""

from __future__ import annotations

from tensorboard.plugins import base_plugin

from modellens import attention, confusion_matrix, curves, distributions, graph, heatmap, predictions
from modellens.distributions import tensorboard_histograms as legacy
from modellens.tb_plugin import static_files
from modellens.tb_plugin.alerts_routes import AlertsRoutes
from modellens.tb_plugin.attention_routes import AttentionRoutes
from modellens.tb_plugin.confusion_routes import ConfusionRoutes
from modellens.tb_plugin.curves_routes import CurvesRoutes
from modellens.tb_plugin.data import KindReader, Source
from modellens.tb_plugin.distributions_routes import DistributionsRoutes, legacy_source
from modellens.tb_plugin.graph_routes import GraphRoutes
from modellens.tb_plugin.heatmap_routes import HeatmapRoutes
from modellens.tb_plugin.loader import PLUGIN_NAME
from modellens.tb_plugin.predictions_routes import PredictionsRoutes


def kind_routes(provider) -> tuple:
    """One route object per kind (adding a kind adds one line here), then the Alerts page,
    which reads through the others."""
    kinds = (
        ConfusionRoutes(KindReader(provider, Source.kind(confusion_matrix))),
        DistributionsRoutes(KindReader(provider, Source.kind(distributions)), KindReader(provider, legacy_source())),
        GraphRoutes(KindReader(provider, Source.kind(graph))),
        AttentionRoutes(KindReader(provider, Source.kind(attention))),
        CurvesRoutes(KindReader(provider, Source.kind(curves))),
        PredictionsRoutes(KindReader(provider, Source.kind(predictions))),
        HeatmapRoutes(KindReader(provider, Source.kind(heatmap))),
    )
    return (*kinds, AlertsRoutes(provider, kinds))


class ModelLensPlugin(base_plugin.TBPlugin):
    plugin_name = PLUGIN_NAME

    def __init__(self, context: base_plugin.TBContext) -> None:
        if context.data_provider is None:
            raise ValueError("ModelLens needs TensorBoard's data provider (TensorBoard 2.5 or newer)")
        self._kinds = kind_routes(context.data_provider)

    def get_plugin_apps(self):
        apps = dict(static_files.routes())
        for kind in self._kinds:
            for path, handler in kind.routes().items():
                if path in apps:
                    raise ValueError(f"the route {path} is defined twice")
                apps[path] = handler
        return apps

    def is_active(self) -> bool:
        return False  # activity comes from data_plugin_names(): the tab shows when data exists

    def data_plugin_names(self):
        return (PLUGIN_NAME, legacy.PLUGIN_NAME)  # standard histograms light up the tab too

    def frontend_metadata(self) -> base_plugin.FrontendMetadata:
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="ModelLens")
