"""`Sequential` models: compile, fit, evaluate and predict, calling the hooks.

Everything is float32 numpy, vectorised over the batch. The trainer asks
the `CallbackList` which hooks some plugin implements and skips the others
entirely, including building their ``logs`` dicts and computing the batch
loss when nobody reads it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np

from . import activations, losses, optimizers, saving, utils
from . import config as configuration
from .callback import Callback
from .callback_list import CallbackList
from .errors import ConfigError, ModelError
from .layers import Layer
from .selection import select

Array = np.ndarray
_ACCURACY = ("accuracy", "acc")
_model_counter = itertools.count(1)


class Model:
    """The trainable model: layers applied in order, with Keras's training API.

    Attributes:
        layers: The layers, in order.
        optimizer: The optimizer, after `compile`.
        loss: The loss, after `compile`.
        stop_training: Set it (from a plugin) to stop `fit` after the
            current batch or epoch.
        history: The History of the last `fit`, when that plugin ran.
        initial_epoch: The epoch `fit` starts from; a plugin may raise it in
            ``on_train_begin`` to resume a run (BackupAndRestore does).
        interrupted: True while ``on_train_end`` runs after training ended
            with an error or was stopped from outside (Ctrl-C in ``hookfit
            train``); False when it ran to its end or a plugin stopped it.
            Plugins that clean up only after a finished run check it.
        callback_list: The `CallbackList` of the run in progress (its
            ``members`` are the plugins taking part), else None.
        rng: The generator behind weight initialisation, shuffling and
            dropout (seeded by `hookfit.utils.set_random_seed`).
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"{type(self).__name__.lower()}_{next(_model_counter)}"
        self.layers: list[Layer] = []
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: losses.Loss | None = None
        self.metrics: list[str] = []
        self.stop_training = False
        self.history: Any = None
        self.initial_epoch = 0
        self.interrupted = False
        self.callback_list: CallbackList | None = None
        self.rng = utils.new_generator()
        self._acc_kind: str | None = None
        self._fused = False

    # -- structure -----------------------------------------------------------

    @property
    def built(self) -> bool:
        """True once every layer has its weights."""
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_dim(self) -> int | None:
        """The number of input features, once known."""
        return self.layers[0].input_dim if self.layers else None

    @property
    def output_dim(self) -> int | None:
        """The number of outputs, once known."""
        for layer in reversed(self.layers):
            if layer.output_dim is not None:
                return layer.output_dim
        return None

    def build(self, input_dim: int) -> None:
        """Create every layer's weights for ``input_dim`` input features."""
        dim = input_dim
        for layer in self.layers:
            if not layer.built:
                layer.build(dim, self.rng)
            elif layer.input_dim != dim:
                raise ConfigError(
                    f"Layer {layer.name} expects {layer.input_dim} inputs but the layer "
                    f"before gives {dim}."
                )
            dim = layer.output_dim or dim
        self._trainable = [ly for ly in self.layers if ly.trainable and ly.weights]
        self._weights, self._grads = _flatten(self._trainable)
        # A layer needs d(loss)/d(input) only if something before it learns.
        self._need_dx = [any(ly.weights for ly in self.layers[:i]) for i in range(len(self.layers))]

    def get_weights(self) -> list[Array]:
        """Return copies of all weights, layer by layer."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[Array]) -> None:
        """Set all weights from a list like `get_weights` returns.

        Raises:
            ConfigError: The count or a shape does not match the model.
        """
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ConfigError(
                f"Model {self.name} has {expected} weight arrays, got {len(weights)}."
            )
        position = 0
        for layer in self.layers:
            count = len(layer.weights)
            layer.set_weights(weights[position : position + count])
            position += count

    def count_params(self) -> int:
        """The number of weight values."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn: Any = print) -> None:
        """Print a table of the layers, their output shapes and sizes."""
        rule = "_" * 65
        print_fn(f'Model: "{self.name}"')
        print_fn(rule)
        print_fn(f"{'Layer (type)':<29}{'Output Shape':<26}Param #")
        print_fn("=" * 65)
        for layer in self.layers:
            shape = f"(None, {layer.output_dim})" if layer.output_dim else "?"
            print_fn(
                f"{layer.name + ' (' + layer.class_name + ')':<29}{shape:<26}{layer.count_params()}"
            )
        print_fn("=" * 65)
        print_fn(f"Total params: {self.count_params()}")
        print_fn(rule)

    # -- files ---------------------------------------------------------------

    def save(
        self,
        filepath: str | os.PathLike[str],
        overwrite: bool = True,
        include_optimizer: bool = True,
    ) -> None:
        """Save the model to an HDF5 file (tf.keras 2.x layout; Keras 3 loads
        it), with the optimizer state unless ``include_optimizer`` is False.

        The file is written to a temporary name and renamed into place, so a
        crash never leaves a half-written file. Needs ``hookfit[h5]``.
        """
        saving.save_model(self._built_for("save"), filepath, overwrite, include_optimizer)

    def save_weights(self, filepath: str | os.PathLike[str], overwrite: bool = True) -> None:
        """Save the weights only, in Keras 2's ``save_weights`` layout."""
        saving.save_weights(self._built_for("save_weights"), filepath, overwrite)

    def load_weights(self, filepath: str | os.PathLike[str]) -> None:
        """Load weights saved by `save_weights` or `save` (layers with weights
        are matched in order, as Keras does).

        Raises:
            FormatError: The file does not fit the model, or is unreadable.
        """
        saving.load_weights(self._built_for("load_weights"), filepath)

    def _built_for(self, what: str) -> Model:
        if not self.built:
            raise ModelError(
                f"{what}() needs a built model: give the first layer input_dim, or fit once."
            )
        return self

    # -- compile -------------------------------------------------------------

    def compile(
        self,
        optimizer: str | optimizers.Optimizer = "rmsprop",
        loss: str | losses.Loss | None = None,
        metrics: Sequence[str] | None = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics.

        Args:
            optimizer: A Keras name (``'sgd'``, ``'rmsprop'``, ``'adam'``,
                ``'adagrad'``) or an optimizer object.
            loss: A Keras loss name or `Loss`.
            metrics: ``['accuracy']`` (logged as ``acc``/``val_acc``) or None.

        Raises:
            ConfigError: An unknown optimizer, loss or metric.
            ModelError: The model has no layers.
        """
        if not self.layers:
            raise ModelError(f"Model {self.name} has no layers; add() some before compile().")
        if loss is None:
            raise ConfigError(
                "compile() needs a loss, e.g. loss='categorical_crossentropy'. "
                "Valid losses: " + ", ".join(losses._REGISTRY) + "."
            )
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        self.metrics = []
        for metric in metrics or ():
            if metric not in _ACCURACY:
                raise ConfigError(
                    f"Unknown metric {metric!r}; hookfit computes 'accuracy' (logged as 'acc')."
                )
            self.metrics = ["acc"]
        last = getattr(self.layers[-1], "activation", None)
        self._fused = self.loss.fuses_with is not None and last is activations.get(
            self.loss.fuses_with
        )
        units = self.output_dim
        self._acc_kind = losses.accuracy_for(self.loss, units or 0) if self.metrics else None

    @property
    def metrics_names(self) -> list[str]:
        """``['loss']`` plus ``'acc'`` when compiled with accuracy."""
        return ["loss", *self.metrics]

    def _require_compiled(self, what: str) -> None:
        if self.loss is None or self.optimizer is None:
            raise ModelError(
                f"{what}() needs a compiled model: call model.compile(optimizer=..., loss=...) "
                "first."
            )

    # -- data ----------------------------------------------------------------

    def _prepare_x(self, x: Any, what: str) -> Array:
        if x is None:
            raise ConfigError(f"{what}: no input data (x is None).")
        arr = np.asarray(x, dtype=np.float32)
        first = self.layers[0]
        if arr.ndim < 2:
            raise ConfigError(
                f"{what}: x must have shape (samples, features); got shape {arr.shape}."
            )
        if arr.ndim > 2 and not first.flattens:
            raise ConfigError(
                f"{what}: x has shape {arr.shape}, but {first.name} takes (samples, features). "
                f"Reshape x to ({len(arr)}, {int(np.prod(arr.shape[1:]))}) or add "
                f"Flatten(input_shape={arr.shape[1:]}) as the first layer."
            )
        features = int(np.prod(arr.shape[1:]))
        if self.input_dim is not None and features != self.input_dim:
            raise ConfigError(
                f"{what}: x has {features} features per sample, but the model's first layer "
                f"{first.name} expects {self.input_dim}."
            )
        if not self.built:
            self.build(features)
        return np.ascontiguousarray(arr)

    def _prepare_y(self, y: Any, n: int, what: str) -> Array:
        loss = cast(losses.Loss, self.loss)
        if y is None:
            raise ConfigError(f"{what}: no targets (y is None).")
        units = self.output_dim
        if loss.sparse:
            arr = np.asarray(y)
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            if arr.ndim != 1 or (arr.size and not np.all(np.mod(arr, 1) == 0)):
                raise ConfigError(
                    f"{what}: {loss.name} takes integer class labels of shape (samples,); "
                    f"got shape {arr.shape}, dtype {arr.dtype}. For one-hot targets use "
                    "categorical_crossentropy."
                )
            arr = arr.astype(np.intp)
            if arr.size and (arr.min() < 0 or arr.max() >= (units or 0)):
                raise ConfigError(
                    f"{what}: labels must be in [0, {units}) for {units} outputs; "
                    f"got {arr.min()}..{arr.max()}."
                )
        else:
            arr = np.asarray(y, dtype=np.float32)
            if arr.ndim == 1 and units == 1:
                arr = arr[:, None]
            if arr.ndim != 2 or arr.shape[1] != units:
                hint = ""
                if arr.ndim == 1 and loss.fuses_with == "softmax":
                    hint = (
                        " These look like class labels: one-hot encode them with "
                        "hookfit.utils.to_categorical(y), or compile with "
                        "loss='sparse_categorical_crossentropy'."
                    )
                raise ConfigError(
                    f"{what}: y must have shape (samples, {units}) for the model's {units} "
                    f"outputs; got {arr.shape}.{hint}"
                )
        if len(arr) != n:
            raise ConfigError(f"{what}: x has {n} samples but y has {len(arr)}; they must match.")
        return np.ascontiguousarray(arr)

    # -- steps ---------------------------------------------------------------

    def _forward(self, x: Array, training: bool) -> Array:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def _metrics(self, y: Array, out: Array) -> tuple[float, float | None]:
        function = cast(losses.Loss, self.loss)
        loss = function.fused_value(y, out) if self._fused else function(y, out)
        acc = losses.accuracy(self._acc_kind, y, out) if self._acc_kind else None
        return loss, acc

    def _step(self, x: Array, y: Array, want_logs: bool) -> tuple[float, float | None] | None:
        """One optimiser step; returns (loss, acc) when ``want_logs``."""
        loss = cast(losses.Loss, self.loss)
        out = self._forward(x, training=True)
        result = self._metrics(y, out) if want_logs else None
        grad: Any = loss.fused_gradient(y, out) if self._fused else loss.gradient(y, out)
        layers, need_dx = self.layers, self._need_dx
        last = len(layers) - 1
        for i in range(last, -1, -1):
            if i == last and self._fused:
                grad = layers[i].backward(grad, need_dx[i], pre_activation=True)  # type: ignore[call-arg]
            else:
                grad = layers[i].backward(grad, need_dx[i])
            if not need_dx[i]:  # nothing before this layer learns
                break
        cast(optimizers.Optimizer, self.optimizer).apply(self._weights, self._grads)
        return result

    def _gather(self, data: Array, index: Array) -> Array:
        # np.take into a fresh array measured faster than into a reused
        # buffer (out=), which takes numpy's slower path.
        return np.take(data, index, axis=0)

    # -- training API --------------------------------------------------------

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Iterable[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[Any, Any] | None = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        config: Any = None,
    ) -> Any:
        """Train the model, calling the plugins' hooks.

        Args:
            x: Inputs, ``(samples, features)``.
            y: Targets: one-hot rows, or class indices for the sparse loss.
            batch_size: Samples per update (default 32).
            epochs: The epoch to stop at (0-based count, as in Keras).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: Plugins for this run: objects, or entry-point names.
            validation_split: Fraction in [0, 1) of the data (taken from the
                end, before shuffling) to validate on after each epoch.
            validation_data: ``(x_val, y_val)``; overrides the split.
            shuffle: Shuffle the training samples every epoch.
            initial_epoch: The epoch to start from (to resume).
            config: Plugin settings: a path to a config file, a dict in the
                config file's form, False for none, or None to use the
                ``hookfit.toml`` found from the working directory upward.
                The environment (``HOOKFIT_PLUGINS``, ...) applies too.

        Returns:
            The History plugin of this run when it is enabled, else None.

        Raises:
            ModelError: The model is not compiled.
            ConfigError: Bad arguments or data, before any hook runs.
        """
        self._require_compiled("fit")
        batch_size = _batch_size(batch_size)
        epochs = _count("epochs", epochs)
        initial_epoch = _count("initial_epoch", initial_epoch)
        verbose = _verbose(verbose)
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)):
            raise ConfigError(
                f"fit: validation_split must be a number in [0, 1), got {validation_split!r}."
            )
        if not 0 <= validation_split < 1:
            raise ConfigError(f"fit: validation_split must be in [0, 1), got {validation_split!r}.")
        if not isinstance(shuffle, bool):
            raise ConfigError(f"fit: shuffle must be True or False, got {shuffle!r}.")
        x = self._prepare_x(x, "fit")
        y = self._prepare_y(y, len(x), "fit")
        x_val = y_val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ConfigError("fit: validation_data must be a tuple (x_val, y_val).")
            x_val = self._prepare_x(validation_data[0], "fit(validation_data)")
            y_val = self._prepare_y(validation_data[1], len(x_val), "fit(validation_data)")
        elif validation_split:
            split = int(len(x) * (1.0 - validation_split))
            x, x_val, y, y_val = x[:split], x[split:], y[:split], y[split:]
            if not len(x_val):
                raise ConfigError(
                    f"fit: validation_split={validation_split} leaves no validation samples "
                    f"out of {len(x) + len(x_val)}; raise it or pass validation_data."
                )
        if not len(x):
            raise ConfigError("fit: there are no training samples.")
        n = len(x)
        steps = -(-n // batch_size)
        do_validation = x_val is not None
        names = self.metrics_names
        params = {
            "batch_size": batch_size,
            "epochs": epochs,
            "steps": steps,
            "samples": n,
            "verbose": verbose,
            "do_validation": do_validation,
            "metrics": names + [f"val_{m}" for m in names] if do_validation else names,
        }
        cbl = self._callback_list(callbacks, verbose, config, params)
        if do_validation:
            for member in cbl.members:
                if isinstance(member.obj, Callback):
                    member.obj.validation_data = [x_val, y_val]
        self.history = cbl.get("history")
        self.initial_epoch = initial_epoch
        self.callback_list = cbl
        try:
            self._train(cbl, x, y, x_val, y_val, batch_size, epochs, shuffle)
        finally:
            self.callback_list = None
        return self.history

    def _callback_list(
        self, callbacks: Iterable[Any] | None, verbose: int, config: Any, params: dict[str, Any]
    ) -> CallbackList:
        settings = configuration.load(config).settings()
        return CallbackList(select(callbacks, verbose=verbose, settings=settings), self, params)

    def _train(
        self,
        cbl: CallbackList,
        x: Array,
        y: Array,
        x_val: Array | None,
        y_val: Array | None,
        batch_size: int,
        epochs: int,
        shuffle: bool,
    ) -> None:
        fire = cbl.fire
        on_batch_begin, on_batch_end = cbl.on_batch_begin, cbl.on_batch_end
        n = len(x)
        starts = range(0, n, batch_size)
        last_logs: dict[str, Any] = {}
        self.stop_training = self.interrupted = False
        try:
            if cbl.on_train_begin:
                fire(cbl.on_train_begin, {})
            # read after on_train_begin: a plugin may resume from a later epoch
            for epoch in range(self.initial_epoch, epochs):
                if self.stop_training:
                    break
                if cbl.on_epoch_begin:
                    fire(cbl.on_epoch_begin, epoch, {})
                order = self.rng.permutation(n) if shuffle else None
                for batch, start in enumerate(starts):
                    stop = min(start + batch_size, n)
                    if order is None:
                        xb, yb = x[start:stop], y[start:stop]
                    else:
                        index = order[start:stop]
                        xb, yb = self._gather(x, index), self._gather(y, index)
                    size = stop - start
                    if on_batch_begin:
                        fire(on_batch_begin, batch, {"batch": batch, "size": size})
                    result = self._step(xb, yb, bool(on_batch_end))
                    if on_batch_end:
                        logs = {"batch": batch, "size": size, "loss": result[0]}  # type: ignore[index]
                        if self._acc_kind:
                            logs["acc"] = result[1]  # type: ignore[index]
                        fire(on_batch_end, batch, logs)
                    if self.stop_training:
                        break
                epoch_logs: dict[str, Any] = {}
                if x_val is not None and y_val is not None:
                    results = self._test(cbl, x_val, y_val, batch_size)
                    epoch_logs.update((f"val_{k}", v) for k, v in results.items())
                if cbl.on_epoch_end:
                    fire(cbl.on_epoch_end, epoch, epoch_logs)
                last_logs = epoch_logs
        except BaseException as exc:
            # on_train_end still runs, so plugins close their files; the
            # original exception stays the one the caller sees.
            self.interrupted = True
            if cbl.on_train_end:
                try:
                    fire(cbl.on_train_end, {})
                except Exception as second:
                    exc.add_note(f"hookfit: on_train_end then failed too: {second!r}")
            raise
        if cbl.on_train_end:
            fire(cbl.on_train_end, dict(last_logs))

    def _test(self, cbl: CallbackList, x: Array, y: Array, batch_size: int) -> dict[str, float]:
        fire = cbl.fire
        if cbl.on_test_begin:
            fire(cbl.on_test_begin, {})
        total_loss = total_acc = 0.0
        for batch, start in enumerate(range(0, len(x), batch_size)):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            size = len(xb)
            if cbl.on_test_batch_begin:
                fire(cbl.on_test_batch_begin, batch, {"batch": batch, "size": size})
            loss, acc = self._metrics(yb, self._forward(xb, training=False))
            total_loss += loss * size
            total_acc += (acc or 0.0) * size
            if cbl.on_test_batch_end:
                logs = {"batch": batch, "size": size, "loss": loss}
                if acc is not None:
                    logs["acc"] = acc
                fire(cbl.on_test_batch_end, batch, logs)
        results = {"loss": total_loss / len(x)}
        if self._acc_kind:
            results["acc"] = total_acc / len(x)
        if cbl.on_test_end:
            fire(cbl.on_test_end, dict(results))
        return results

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int = 1,
        callbacks: Iterable[Any] | None = None,
        config: Any = None,
    ) -> float | list[float]:
        """Return the loss (and accuracy) on ``x``/``y``, calling the test hooks.

        Returns:
            The loss, or ``[loss, acc]`` when compiled with accuracy.
        """
        self._require_compiled("evaluate")
        batch_size = _batch_size(batch_size)
        verbose = _verbose(verbose)
        x = self._prepare_x(x, "evaluate")
        y = self._prepare_y(y, len(x), "evaluate")
        params = {
            "batch_size": batch_size,
            "steps": -(-len(x) // batch_size),
            "samples": len(x),
            "verbose": verbose,
            "metrics": self.metrics_names,
        }
        cbl = self._callback_list(callbacks, verbose, config, params)
        results = self._test(cbl, x, y, batch_size)
        return results["loss"] if len(results) == 1 else [results[m] for m in self.metrics_names]

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int = 0,
        callbacks: Iterable[Any] | None = None,
        config: Any = None,
    ) -> Array:
        """Return the model's outputs for ``x``, calling the predict hooks."""
        batch_size = _batch_size(batch_size)
        verbose = _verbose(verbose)
        x = self._prepare_x(x, "predict")
        params = {
            "batch_size": batch_size,
            "steps": -(-len(x) // batch_size),
            "samples": len(x),
            "verbose": verbose,
        }
        cbl = self._callback_list(callbacks, verbose, config, params)
        fire = cbl.fire
        out = np.empty((len(x), self.output_dim or 0), dtype=np.float32)
        if cbl.on_predict_begin:
            fire(cbl.on_predict_begin, {})
        for batch, start in enumerate(range(0, len(x), batch_size)):
            xb = x[start : start + batch_size]
            if cbl.on_predict_batch_begin:
                fire(cbl.on_predict_batch_begin, batch, {"batch": batch, "size": len(xb)})
            chunk = out[start : start + len(xb)]
            chunk[...] = self._forward(xb, training=False)
            if cbl.on_predict_batch_end:
                logs = {"batch": batch, "size": len(xb), "outputs": chunk.copy()}
                fire(cbl.on_predict_batch_end, batch, logs)
        if cbl.on_predict_end:
            fire(cbl.on_predict_end, {})
        return out

    def train_on_batch(self, x: Any, y: Any) -> float | list[float]:
        """One update on one batch, without hooks; returns its loss (and acc)."""
        self._require_compiled("train_on_batch")
        x = self._prepare_x(x, "train_on_batch")
        y = self._prepare_y(y, len(x), "train_on_batch")
        loss, acc = self._step(x, y, want_logs=True)  # type: ignore[misc]
        return loss if acc is None else [loss, acc]

    def test_on_batch(self, x: Any, y: Any) -> float | list[float]:
        """The loss (and acc) on one batch, without hooks or updates."""
        self._require_compiled("test_on_batch")
        x = self._prepare_x(x, "test_on_batch")
        y = self._prepare_y(y, len(x), "test_on_batch")
        loss, acc = self._metrics(y, self._forward(x, training=False))
        return loss if acc is None else [loss, acc]

    def predict_on_batch(self, x: Any) -> Array:
        """The outputs for one batch, without hooks."""
        x = self._prepare_x(x, "predict_on_batch")
        return self._forward(x, training=False).copy()


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: Layers to add, in order.
        name: The model's name.

    Example:
        >>> model = Sequential()
        >>> model.add(Dense(10, input_dim=784, kernel_initializer='uniform'))
        >>> model.add(Activation('softmax'))
        >>> model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
    """

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None) -> None:
        super().__init__(name)
        for layer in layers or ():
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Append a layer; the first one may fix the input size.

        Raises:
            ConfigError: Not a layer, or a name already used in the model.
        """
        if not isinstance(layer, Layer):
            raise ConfigError(f"Sequential.add takes a layer such as Dense(10), got {layer!r}.")
        if any(existing.name == layer.name for existing in self.layers):
            raise ConfigError(f"Model {self.name} already has a layer named {layer.name!r}.")
        self.layers.append(layer)
        if self.layers[0].input_dim is not None:
            self.build(self.layers[0].input_dim)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise ModelError(f"Model {self.name} has no layers to pop.")
        layer = self.layers.pop()
        if self.built:
            self.build(self.input_dim)  # type: ignore[arg-type]
        return layer


def _flatten(layers: list[Layer]) -> tuple[list[Array], list[Array]]:
    """Put every trainable weight (and its gradient) in one buffer.

    The layers keep working on views of it, while the optimizer updates one
    array per step instead of two per layer. Layers of another dtype than
    the first keep arrays of their own.
    """
    weights = [w for ly in layers for w in ly.weights]
    if not weights or any(w.dtype != weights[0].dtype for w in weights):
        return weights, [g for ly in layers for g in ly.grads]
    flat_w = np.empty(sum(w.size for w in weights), dtype=weights[0].dtype)
    flat_g = np.zeros_like(flat_w)
    start = 0
    for layer in layers:
        for i, w in enumerate(layer.weights):
            view = flat_w[start : start + w.size].reshape(w.shape)
            view[...] = w
            layer.weights[i] = view
            layer.grads[i] = flat_g[start : start + w.size].reshape(w.shape)
            start += w.size
    return [flat_w], [flat_g]


def _batch_size(value: Any) -> int:
    if value is None:
        return 32
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {value!r}.")
    return int(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"fit: {name} must be an integer >= 0, got {value!r}.")
    return int(value)


def _verbose(value: Any) -> int:
    if value not in (0, 1, 2) or isinstance(value, bool):
        raise ConfigError(f"verbose must be 0, 1 or 2, got {value!r}.")
    return int(value)


load_model = saving.load_model
