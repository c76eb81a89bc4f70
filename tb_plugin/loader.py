"""Entry point for TensorBoard. Imports nothing heavy: a failure here would stop TensorBoard."""

from tensorboard.plugins import base_plugin

PLUGIN_NAME = "modellens"


class Loader(base_plugin.TBLoader):
    """Keeps every step of ModelLens data unless the user chose a sample count."""

    def fix_flags(self, flags) -> None:
        samples = getattr(flags, "samples_per_plugin", None)
        if isinstance(samples, dict) and PLUGIN_NAME not in samples:
            samples[PLUGIN_NAME] = 0  # 0 means "keep all" in both TensorBoard loaders

    def load(self, context):
        from modellens.tb_plugin.plugin import ModelLensPlugin

        return ModelLensPlugin(context)
