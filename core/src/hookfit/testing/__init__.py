"""Test helpers for hookfit and for plugin authors, also a pytest plugin.

Installing hookfit makes these fixtures available in every pytest session
(entry point ``pytest11``): ``hookfit_rng``, ``hookfit_data``,
``hookfit_model``, ``hookfit_fit``, ``hookfit_site``, ``hookfit_cli`` and
``hookfit_mpiexec``. The
module imports numpy only when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..hooks.callback import Callback
from ..hooks.specs import ALL_HOOKS, hookimpl


class Recorder:
    """A plugin that records every hook call as ``(hook, positional args)``.

    The ``logs`` argument is recorded as a copy, so later changes by other
    plugins do not show.

    Attributes:
        calls: The calls, in order.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def count(self, hook: str) -> int:
        """How many times ``hook`` was called."""
        return sum(1 for name, _ in self.calls if name == hook)

    def hooks(self) -> list[str]:
        """The hook names, in call order."""
        return [name for name, _ in self.calls]


def _recording(hook: str) -> Callable[..., None]:
    if hook in ("on_epoch_begin", "on_epoch_end"):

        def impl(self: Recorder, epoch: int, logs: dict[str, Any]) -> None:
            self.calls.append((hook, (epoch, dict(logs))))

    elif "batch" in hook:

        def impl(self: Recorder, batch: int, logs: dict[str, Any]) -> None:  # type: ignore[misc]
            self.calls.append((hook, (batch, dict(logs))))

    else:

        def impl(self: Recorder, logs: dict[str, Any]) -> None:  # type: ignore[misc]
            self.calls.append((hook, (dict(logs),)))

    impl.__name__ = hook
    return hookimpl(impl)


for _hook in ALL_HOOKS:
    setattr(Recorder, _hook, _recording(_hook))


class Inject(Callback):
    """A plugin that puts given values into each epoch's logs, for testing
    plugins that watch a monitor (EarlyStopping, ModelCheckpoint, ...).

    Pass it before the plugin under test: that one then sees ``values[0]``
    as ``logs[key]`` at the first epoch end of the run, ``values[1]`` at the
    second, and so on.

    Args:
        key: The log key to set, e.g. ``"val_loss"``.
        values: One value per epoch of the run.

    Attributes:
        epochs: The epochs it saw end, in order.
        weights: The model's weights at each of those epoch ends.
    """

    def __init__(self, key: str, values: Sequence[Any]) -> None:
        super().__init__()
        self.key, self.values = key, values
        self.epochs: list[int] = []
        self.weights: list[list[Any]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Set ``logs[key]`` to this epoch's value and keep the weights."""
        if logs is not None:
            logs[self.key] = self.values[len(self.epochs)]
        self.epochs.append(epoch)
        self.weights.append(self.model.get_weights())


def fit_with_values(
    model: Any,
    data: tuple[Any, Any],
    plugins: Sequence[Any],
    key: str = "val_loss",
    values: Sequence[Any] = (),
    epochs: int | None = None,
    **fit_args: Any,
) -> Inject:
    """Fit ``model`` on ``data`` with an `Inject` of ``values`` as
    ``logs[key]`` before ``plugins``, and return the `Inject`.

    Runs one epoch per value unless ``epochs`` is given; other keywords go to
    `fit` (``verbose`` defaults to 0). No config file is read.
    """
    x, y = data
    inject = Inject(key, values)
    fit_args.setdefault("verbose", 0)
    model.fit(x, y, epochs=epochs or len(values), callbacks=[inject, *plugins], **fit_args)
    return inject


@dataclass
class FitResult:
    """What `hookfit_fit` returns.

    Attributes:
        model: The trained model.
        history: The History plugin of the run (None if it was off).
        calls: Every hook call of the run, ``(hook, positional args)``, as a
            `Recorder` that ran after your plugins saw them.
    """

    model: Any
    history: Any
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def count(self, hook: str) -> int:
        """How many times ``hook`` was called."""
        return sum(1 for name, _ in self.calls if name == hook)

    def hooks(self) -> list[str]:
        """The hook names, in call order."""
        return [name for name, _ in self.calls]


@pytest.fixture
def hookfit_fit(hookfit_model: Callable[..., Any], hookfit_data: Any) -> Callable[..., FitResult]:
    """Run `fit` on the small model and data with the plugins you give.

    Call it as ``hookfit_fit(MyPlugin(), "early_stopping", epochs=3,
    validation_split=0.25)``: plugins are objects or installed plugin names;
    other keywords go to `fit` (``verbose`` defaults to 0). No config file
    is read. Returns a `FitResult`.
    """

    def run(*plugins: Any, epochs: int = 2, **fit_args: Any) -> FitResult:
        x, y = hookfit_data
        recorder = Recorder()
        model = hookfit_model()
        fit_args.setdefault("verbose", 0)
        history = model.fit(x, y, epochs=epochs, callbacks=[*plugins, recorder], **fit_args)
        return FitResult(model, history, recorder.calls)

    return run


@pytest.fixture
def hookfit_rng() -> Any:
    """A ``numpy.random.Generator`` seeded with 0."""
    import numpy as np

    return np.random.default_rng(0)


@pytest.fixture
def hookfit_data(hookfit_rng: Any) -> tuple[Any, Any]:
    """A small learnable classification set: 64 samples, 8 features, 3
    classes, ``(x float32, y one-hot float32)``."""
    import numpy as np

    x = hookfit_rng.normal(size=(64, 8)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    y = np.eye(3, dtype=np.float32)[labels]
    return x, y


HOSTS = ("hookfit", "minimal")
TEST_HOSTS = "hookfit.test_hosts"
"""Entry-point group of other trainers' test models (``keras =
"hookfit_keras.testing:make_model"``): ``--hookfit-host=keras`` runs the
tests that use ``hookfit_model`` on that trainer."""


def registered_hosts() -> dict[str, Any]:
    """The installed test hosts of other trainers, by name (entry points, not loaded)."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=TEST_HOSTS) if ep.name not in HOSTS}


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--hookfit-host``: which host ``hookfit_model`` builds."""
    others = tuple(registered_hosts())
    parser.addoption(
        "--hookfit-host",
        choices=(*HOSTS, *others, "both", "all"),
        default="hookfit",
        help="hookfit_model builds hookfit's Sequential (hookfit), the protocol-only "
        "MinimalHost (minimal), each in turn (both), a model of another installed trainer "
        f"({', '.join(others) or 'none installed'}), or every one of them (all)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``hookfit_not_on`` mark."""
    config.addinivalue_line(
        "markers",
        "hookfit_not_on(*hosts, reason): the test checks what these hosts do not offer "
        "(it is skipped there, with the reason)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses ``hookfit_model`` on the hosts asked for."""
    if "hookfit_host" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--hookfit-host", "hookfit")
        if chosen == "all":
            hosts: tuple[str, ...] = (*HOSTS, *registered_hosts())
        else:
            hosts = HOSTS if chosen == "both" else (chosen,)
        metafunc.parametrize("hookfit_host", hosts, indirect=True, ids=list(hosts))


@pytest.fixture
def hookfit_host(request: pytest.FixtureRequest) -> str:
    """The kind of host ``hookfit_model`` builds: ``"hookfit"``, ``"minimal"``
    or a registered name (``"keras"``).

    A test marked ``@pytest.mark.hookfit_not_on("keras", reason="...")`` is
    skipped on those hosts, with its reason: for tests of what only some
    hosts offer (hookfit's own file loader, its batch log keys).
    """
    host = str(getattr(request, "param", "hookfit"))
    mark = request.node.get_closest_marker("hookfit_not_on")
    if mark is not None and host in mark.args:
        pytest.skip(f"not on the {host} host: {mark.kwargs.get('reason', 'no reason given')}")
    return host


@pytest.fixture
def hookfit_model(hookfit_host: str) -> Callable[..., Any]:
    """A factory for a small compiled model matching ``hookfit_data``.

    Call it as ``hookfit_model(optimizer="sgd", metrics=["accuracy"])``.
    With ``--hookfit-host=minimal`` (or ``both``) it builds the protocol-only
    `hookfit.testing.host.MinimalHost` instead of hookfit's `Sequential`; with
    a name from the ``hookfit.test_hosts`` entry points (``keras``), that
    trainer's model (its ``make_model`` takes the same arguments).
    """

    def make(optimizer: Any = "sgd", metrics: Any = ("accuracy",), seed: int = 0) -> Any:
        if hookfit_host not in HOSTS:
            factory = registered_hosts()[hookfit_host].load()
            return factory(optimizer=optimizer, metrics=tuple(metrics), seed=seed)
        if hookfit_host == "minimal":
            from .host import MinimalHost

            return MinimalHost(8, 3, seed=seed, metrics=list(metrics))
        from ..layers import Dense
        from ..models import Sequential
        from ..utils import set_random_seed

        set_random_seed(seed)
        model = Sequential(
            [Dense(16, activation="relu", input_dim=8), Dense(3, activation="softmax")]
        )
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=list(metrics))
        return model

    return make


class PluginSite:
    """A folder on ``sys.path`` holding installed-looking distributions.

    Lets a test "install" plugins (metadata with entry points, plus their
    modules) without pip, and remove them again when the test ends.

    Args:
        root: An empty folder; it is put first on ``sys.path`` by the
            ``hookfit_site`` fixture.
    """

    def __init__(self, root: Any) -> None:
        from pathlib import Path

        self.root = Path(root)

    def add(
        self,
        dist: str,
        plugins: dict[str, str],
        modules: dict[str, str] | None = None,
        defaults: dict[str, str] | None = None,
        version: str = "1.0",
        commands: dict[str, str] | None = None,
    ) -> None:
        """Install a distribution.

        Args:
            dist: The distribution name, e.g. ``"hookfit-fancy"``.
            plugins: ``hookfit.callbacks`` entry points, name to target.
            modules: Files to create, relative path to source text.
            defaults: ``hookfit.defaults`` entry points, name to when.
            version: The distribution's version.
            commands: ``hookfit.commands`` entry points (plugins that add
                ``hookfit`` commands), name to module.
        """
        import textwrap

        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = ["[hookfit.callbacks]", *(f"{k} = {v}" for k, v in plugins.items())]
        if defaults:
            lines += ["[hookfit.defaults]", *(f"{k} = {v}" for k, v in defaults.items())]
        if commands:
            lines += ["[hookfit.commands]", *(f"{k} = {v}" for k, v in commands.items())]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for path, source in (modules or {}).items():
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(source))


@pytest.fixture
def hookfit_site(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A `PluginSite` on ``sys.path`` for this test only.

    Modules a test imports from it are removed from ``sys.modules``
    afterwards, so tests do not see each other's plugins.
    """
    import sys

    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield PluginSite(root)
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        if str(root) in str(getattr(module, "__file__", "") or ""):
            del sys.modules[name]


@pytest.fixture
def hookfit_cli(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run ``python -m hookfit ARGS`` in a subprocess, in ``tmp_path``.

    Call it as ``hookfit_cli("train", "--set", "fit.epochs=1", env={...})``;
    ``env`` entries are added to a copy of the environment, where the
    ``HOOKFIT_*`` variables of the calling shell are removed first. It
    returns the ``subprocess.CompletedProcess`` (text output captured).
    """
    import os
    import subprocess
    import sys

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: Any = None, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith("HOOKFIT_")}
        full.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "hookfit", *args],
            cwd=cwd or tmp_path,
            env=full,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def hookfit_mpiexec(tmp_path: Any) -> Callable[..., Any]:
    """Run ``mpiexec -n N COMMAND...`` in a subprocess, in ``tmp_path``.

    Call it as ``hookfit_mpiexec(sys.executable, "train.py", n=2)``; the
    ``mpiexec`` beside the running Python comes first (the ``hookfit[mpi]``
    extra installs one there). ``env`` is added to the environment as in
    `hookfit_cli`. A run still going after ``timeout`` seconds is a hang:
    every process is killed and the test fails with its output. Returns the
    ``subprocess.CompletedProcess`` (text output captured).
    """
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from .processes import run_bounded

    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    launcher = shutil.which("mpiexec", path=search)

    def run(
        *command: str,
        n: int = 2,
        timeout: float = 60.0,
        env: dict[str, str] | None = None,
        cwd: Any = None,
    ) -> subprocess.CompletedProcess[str]:
        if launcher is None:
            pytest.fail(
                "mpiexec not found: install hookfit's MPI extra, pip install 'hookfit[mpi]'"
            )
        args = [str(launcher), "-n", str(n), *command]  # not None: pytest.fail raised
        return run_bounded(args, cwd=cwd or tmp_path, timeout=timeout, env=env)

    return run
