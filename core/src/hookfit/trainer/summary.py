"""Keras 2's ``model.summary()`` table (Keras's
``keras.utils.layer_utils.print_summary``): the same columns, widths and
rules, one row per extra connection of a functional model's layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .network import Network


def print_summary(
    model: Network, line_length: int | None = None, positions: Any = None, print_fn: Any = print
) -> None:
    """Print ``model``'s layers, output shapes, parameter counts and (for a
    functional model) what each layer is connected to.

    Args:
        model: A model.
        line_length: The table's width (Keras: 65, or 98 for a functional model).
        positions: Where the columns end, as fractions of the width or as
            character counts.
        print_fn: Called with each line.
    """
    graph = model.graph is not None
    line_length = line_length or (98 if graph else 65)
    positions = positions or ([0.33, 0.55, 0.67, 1.0] if graph else [0.45, 0.85, 1.0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields: list[str]) -> None:
        # Keras's print_row: each field cut at its column, one space before the next
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "
            line = (line + field)[: positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    print_fn("_" * line_length)
    row(["Layer (type)", "Output Shape", "Param #", "Connected to"][: len(positions)])
    print_fn("=" * line_length)
    for i, layer in enumerate(model.layers):
        shape = layer.output_shape if layer.built else None
        shown = "multiple" if shape is None or isinstance(shape, list) else str(shape)
        fields = [f"{layer.name} ({layer.class_name})", shown, str(layer.count_params())]
        if graph:
            node = getattr(layer, "node", None)
            sources = [f"{t.node.layer.name}[0][{t.index}]" for t in (node.inputs if node else [])]
            row([*fields, sources[0] if sources else ""])
            for source in sources[1:]:
                row(["", "", "", source])
        else:
            row(fields)
        print_fn(("=" if i == len(model.layers) - 1 else "_") * line_length)
    trainable = sum(w.size for layer in model.layers for w in layer.trainable_weights)
    print_fn(f"Total params: {model.count_params():,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {model.count_params() - trainable:,}")
    print_fn("_" * line_length)
