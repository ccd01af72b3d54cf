"""What a plugin may use of the model that hosts it: the plugin protocol.

hookfit's own `Model` implements these protocols, and so does the minimal
host in `hookfit.testing`; any other trainer that implements them, and
calls the hooks through `hookfit.hooks.Run`, can host hookfit plugins.
Built-in plugins use nothing else of their model.

`DescribedHost`, `NamedWeights` and `FileFormats` are optional: a plugin
checks for them with ``isinstance(model, DescribedHost)`` and does without
what a host does not offer (TensorBoard writes no graph, and numbers the
weights; a host that names no formats writes `HDF5_FILES`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

Path = str | os.PathLike[str]


@runtime_checkable
class Optimizer(Protocol):
    """The optimizer, as plugins see it.

    Attributes:
        lr: The learning rate; plugins set it (ReduceLROnPlateau,
            LearningRateScheduler) and the next step uses the new value.
    """

    lr: float


@runtime_checkable
class LayerView(Protocol):
    """One layer, as plugins see it (TensorBoard's histograms, naming).

    Attributes:
        name: The layer's name, unique in its model.
    """

    name: str

    def get_weights(self) -> list[Any]:
        """Copies of the layer's weight arrays, in the layer's order."""
        ...


@runtime_checkable
class NamedWeights(LayerView, Protocol):
    """Optional: a layer that names its weights (TensorBoard's tags).

    Attributes:
        weight_names: One name per array of ``get_weights()``, in its order
            (``("kernel", "bias")``).
    """

    weight_names: Sequence[str]


@runtime_checkable
class Host(Protocol):
    """What every plugin may use of its model (``self.model``).

    Attributes:
        stop_training: Set it to True to stop `fit` after the current batch.
        optimizer: The optimizer, with a settable ``lr``.
        layers: The layers, in order.
        history: The History of the run, when that plugin runs, else None.
    """

    stop_training: bool
    history: Any

    @property
    def optimizer(self) -> Optimizer | None:
        """The optimizer (None before compile)."""
        ...

    @property
    def layers(self) -> Sequence[LayerView]:
        """The layers, in order."""
        ...

    def get_weights(self) -> list[Any]:
        """Copies of every weight array, layer by layer."""
        ...

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set every weight array from a list like `get_weights` returns."""
        ...

    def save(
        self,
        filepath: Path,
        overwrite: bool = True,
        include_optimizer: bool = True,
        *,
        metadata: Mapping[str, Any] | None = None,
        jobs: Any = None,
    ) -> None:
        """Save the whole model to ``filepath`` atomically.

        Args:
            filepath: Where to write.
            overwrite: False refuses an existing file.
            include_optimizer: Also save what an exact resume needs
                (optimizer state, random generators).
            metadata: JSON-able data stored in the same file, read back by
                `ResumableHost.restore`.
            jobs: A `hookfit.background.Lane`: copy the state now, write
                the file on its thread. A host may write at once instead.
        """
        ...

    def save_weights(self, filepath: Path, overwrite: bool = True, *, jobs: Any = None) -> None:
        """Save the weights only, atomically (``jobs`` as in `save`)."""
        ...


@runtime_checkable
class DescribedHost(Host, Protocol):
    """Optional: a host that can describe its architecture as Keras does
    (TensorBoard's Graphs tab draws it)."""

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as Keras's model JSON: an object with
        ``class_name`` and ``config`` (and possibly ``keras_version`` and
        ``backend``); ``kwargs`` go to `json.dumps`."""
        ...


HDF5_FILES = (".h5", ".hdf5")
"""The file name endings a host without `FileFormats` saves to (hookfit's
HDF5 layout), for the whole model and for the weights alike."""


@runtime_checkable
class FileFormats(Protocol):
    """Optional: a host that names the files its `Host.save` and
    `Host.save_weights` write, by the end of the file name (ModelCheckpoint
    refuses another name before the first batch).

    Attributes:
        model_formats: The endings `Host.save` writes, e.g.
            ``(".keras", ".h5", ".hdf5")``.
        weights_formats: The endings `Host.save_weights` writes, e.g.
            ``(".weights.h5", ".h5", ".hdf5")``.
    """

    model_formats: Sequence[str]
    weights_formats: Sequence[str]


@runtime_checkable
class ResumableHost(Host, Protocol):
    """What a plugin that resumes runs may use besides `Host` (BackupAndRestore).

    Attributes:
        initial_epoch: The epoch `fit` starts from; ``on_train_begin`` may
            raise it to resume.
        interrupted: True while ``on_train_end`` runs after an error or an
            outside stop (Ctrl-C), so that clean-up can keep what a resume
            needs.
        plugins: The plugins of the run in progress, by name. A plugin is
            resumable when `hookfit.hooks.resumable` lists it.
    """

    initial_epoch: int
    interrupted: bool

    @property
    def plugins(self) -> Mapping[str, Any]:
        """The plugins of the run in progress, by name (empty between runs)."""
        ...

    def restore(self, filepath: Path) -> dict[str, Any]:
        """Load what `Host.save` wrote, optimizer state included, and return
        its ``metadata``.

        Raises:
            FormatError: The file is unreadable or belongs to another model.
        """
        ...
