"""Writing hookfit's models as Keras's JSON model and training configs
(what HDF5 files and TensorBoard's graph hold): a Sequential with an
explicit InputLayer, or a functional model in Keras 2's layout. Reading them
back is `hookfit.saving.blueprints`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from ..trainer.layers.graph import Graph
    from ..trainer.models import Model

KERAS_VERSION = "2.15.0"  # Keras 2 reads a file without a 2.x version as Keras 1's


def model_config(model: Model) -> dict[str, Any]:
    """The Keras ``model_config``: a Sequential with an explicit InputLayer,
    or a functional ``Model`` in Keras 2's layout (``inbound_nodes``,
    ``input_layers``, ``output_layers``)."""
    if model.graph is not None:
        return {"class_name": "Model", "config": _functional_config(model)}
    first = model.layers[0]
    shape = first.batch_input_shape or (None, *(model.input_shapes[0] or ()))
    input_layer = {
        "class_name": "InputLayer",
        "config": {
            "batch_input_shape": list(shape),
            "dtype": first.dtype.name,
            "sparse": False,
            "ragged": False,
            "name": f"{first.name}_input",
        },
    }
    layers = [
        {"class_name": layer.class_name, "config": layer.get_config()} for layer in model.layers
    ]
    return {
        "class_name": "Sequential",
        "config": {"name": model.name, "layers": [input_layer, *layers]},
    }


def _functional_config(model: Model) -> dict[str, Any]:
    graph = cast("Graph", model.graph)
    layers = []
    for layer in graph.layers:
        node = getattr(layer, "node", None)
        inbound = (
            [[[t.node.layer.name, 0, t.index, {}] for t in node.inputs]]
            if node and node.inputs
            else []
        )
        layers.append(
            {
                "name": layer.name,
                "class_name": layer.class_name,
                "config": layer.get_config(),
                "inbound_nodes": inbound,
            }
        )
    return {
        "name": model.name,
        "layers": layers,
        "input_layers": [[layer.name, 0, 0] for layer in graph.input_layers],
        "output_layers": [[layer.name, 0, i] for layer, i in graph.output_layers],
    }


def to_json(model: Model, **kwargs: Any) -> str:
    """The model's architecture as Keras's JSON (``Model.to_json``);
    ``kwargs`` go to `json.dumps`."""
    config = {**model_config(model), "keras_version": KERAS_VERSION, "backend": "tensorflow"}
    return json.dumps(config, **kwargs)


def training_config(model: Model) -> dict[str, Any] | None:
    """The Keras ``training_config`` (Keras 3 compiles the model from it)."""
    if model.loss is None or model.optimizer is None:
        return None
    config = model.optimizer.get_config()
    # Keras 3's optimizers take no `decay`; hookfit keeps it in its own group.
    keras_config = {k: v for k, v in config.items() if k not in ("decay", "schedule_decay")}
    loss = model.loss
    return {
        "loss": [x.name for x in loss] if isinstance(loss, list) else loss.name,
        "metrics": [m for m in model.metrics if isinstance(m, str)]
        if isinstance(model.metrics, list)
        else [],
        "weighted_metrics": None,
        "loss_weights": model.loss_weights,
        "optimizer_config": {"class_name": type(model.optimizer).__name__, "config": keras_config},
    }
