"""The ModelLens TensorBoard plugin. TensorBoard finds it through the ``tensorboard_plugins``
entry point ``modellens.tb_plugin.loader:Loader``."""
