"""The numpy trainer: models, layers, losses, optimizers, activations and
initializers. It calls the hooks through `hookfit.hooks.Run` and never
imports run resolution or the command line.

Users import it by the Keras paths: `hookfit.models`, `hookfit.layers`, ...
"""
