"""The ModelLens ``TBPlugin``: one tab, routes per summary kind, the dashboard bundle."""

from __future__ import annotations

from tensorboard.plugins import base_plugin

from modellens import confusion_matrix
from modellens.tb_plugin import static_files
from modellens.tb_plugin.confusion_routes import ConfusionRoutes
from modellens.tb_plugin.data import KindReader
from modellens.tb_plugin.loader import PLUGIN_NAME


class ModelLensPlugin(base_plugin.TBPlugin):
    plugin_name = PLUGIN_NAME

    def __init__(self, context: base_plugin.TBContext) -> None:
        if context.data_provider is None:
            raise ValueError("ModelLens needs TensorBoard's data provider (TensorBoard 2.5 or newer)")
        self._confusion = ConfusionRoutes(KindReader(context.data_provider, confusion_matrix.KIND))

    def get_plugin_apps(self):
        apps = dict(static_files.routes())
        apps.update(self._confusion.routes())
        return apps

    def is_active(self) -> bool:
        return False  # activity comes from data_plugin_names(): the tab shows when data exists

    def frontend_metadata(self) -> base_plugin.FrontendMetadata:
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="ModelLens")
