"""The architecture's rules, read from the source tree: which layer may
import which, that the core names no plugin, and that plugins use only the
public names and the host protocol.

Data flows one way: sources -> run plan (hookfit.run) -> trainer
(hookfit.trainer) -> hooks (hookfit.hooks) -> plugins. For the forbidden
imports every import counts, also one inside a function. The import graph's
rules read module-level imports (``if TYPE_CHECKING`` ones too: the types
follow the layers), not those inside functions: a lazy import, as
`Model.save` makes of saving, is how an upper layer's convenience stays out
of a lower layer's import.
"""

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core" / "src" / "hookfit"
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").is_file())


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path) -> set[str]:
    """Every module ``path`` imports, absolute, lazy imports included."""
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def core_modules() -> dict[str, set[str]]:
    return {module_name(p, CORE): imports(p, CORE) for p in sorted(CORE.rglob("*.py"))}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# (the importing layer, the layers it must never import, why)
FORBIDDEN = [
    ("hookfit.hooks", ["hookfit.trainer", "hookfit.run", "hookfit.saving", "hookfit.cli"],
     "the hook contract is the bottom layer"),
    ("hookfit.trainer", ["hookfit.run", "hookfit.cli"],
     "the trainer receives a resolved run; it never resolves one"),
    ("hookfit.saving", ["hookfit.run", "hookfit.cli"], "saving knows files, not runs"),
    ("hookfit.run", ["hookfit.cli"], "run resolution serves the command, not the reverse"),
    ("hookfit.distributed", ["hookfit.hooks", "hookfit.trainer", "hookfit.run", "hookfit.saving",
                             "hookfit.cli"],
     "the MPI world is below the trainer: it knows processes, not models"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("layer", "forbidden", "why"), FORBIDDEN, ids=[rule[0] for rule in FORBIDDEN]
)
def test_layers_import_only_downward(layer, forbidden, why):
    broken = sorted(
        f"{module} imports {target}"
        for module, targets in core_modules().items()
        if within(module, layer)
        for target in targets
        if any(within(target, bad) for bad in forbidden)
    )
    assert broken == [], f"{why}: {broken}"


def test_the_hooks_layer_imports_only_errors_from_the_rest_of_hookfit():
    outside = sorted(
        f"{module} imports {target}"
        for module, targets in core_modules().items()
        if within(module, "hookfit.hooks")
        for target in targets
        if within(target, "hookfit")
        and not within(target, "hookfit.hooks")
        and not within(target, "hookfit.errors")
    )
    assert outside == []


def plugin_names() -> dict[str, str]:
    """Every built-in plugin's entry-point name and class, by distribution."""
    found = {}
    for folder in PLUGINS:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        for name, target in data["project"]["entry-points"]["hookfit.callbacks"].items():
            found[name] = target.partition(":")[2]
            found[data["project"]["name"]] = target.partition(":")[2]
    return found


def test_nothing_in_the_core_lists_plugins_by_name():
    names = plugin_names()
    words = {*names, *names.values()}
    mentions = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in words
            ):
                mentions.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert mentions == []


PUBLIC_FOR_PLUGINS = (
    "hookfit",
    "hookfit.background",
    "hookfit.errors",
    "hookfit.hooks.arguments",
    "hookfit.hooks.hints",
    "hookfit.hooks.host",
    "hookfit.hooks.redaction",
    "hookfit.hooks.specs",
    "hookfit.layers",  # Keras's public paths: isinstance checks for hookfit's own host
    "hookfit.models",
    "hookfit.monitor",
    "hookfit.saving",
    "hookfit.saving.atomic",
    "hookfit.testing",
)


@pytest.mark.parametrize("folder", PLUGINS, ids=[p.name for p in PLUGINS])
def test_a_plugin_imports_no_other_plugin_and_only_public_hookfit(folder):
    source = folder / "src"
    own = f"hookfit_{folder.name}"
    problems = []
    for path in sorted(source.rglob("*.py")):
        for target in imports(path, source / own):
            top = target.split(".")[0]
            if top.startswith("hookfit_") and top != own:
                problems.append(f"{path.name} imports the plugin {top}")
            if top == "hookfit" and not any(
                target == public or re.fullmatch(re.escape(public) + r"\.[A-Za-z]\w*", target)
                for public in PUBLIC_FOR_PLUGINS
            ):
                problems.append(f"{path.name} imports {target}, which is not for plugins")
            if top == "hookfit" and target.rpartition(".")[2].startswith("_"):
                problems.append(f"{path.name} imports the private {target}")
    assert problems == []


@pytest.mark.parametrize("folder", PLUGINS, ids=[p.name for p in PLUGINS])
def test_a_plugin_uses_no_private_part_of_its_model(folder):
    """Plugins use the host protocol (hookfit.hooks.host): nothing private."""
    reached = []
    for path in sorted((folder / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")):
                continue
            owner = ast.unparse(node.value)
            if owner in ("model", "self.model", "host") or owner.startswith(
                ("self.model.", "model.")
            ):
                reached.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert reached == []


def module_level_imports(path: Path, root: Path, known: set[str]) -> set[str]:
    """The core modules ``path`` imports at module level (also under ``if
    TYPE_CHECKING``), not inside a function. ``from package import name``
    counts as importing ``package.name`` when that is a module."""
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]

    def statements(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield node
            elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        yield from statements(inner)

    found = set()
    for node in statements(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        module = node.module or ""
        if node.level:
            base = package.split(".")
            module = ".".join([*base[: len(base) - node.level + 1], *filter(None, [module])])
        for alias in node.names:
            found.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module)
    return {target for target in found if target in known and target != here}


def module_graph() -> dict[str, set[str]]:
    paths = {module_name(p, CORE): p for p in sorted(CORE.rglob("*.py"))}
    return {name: module_level_imports(path, CORE, set(paths)) for name, path in paths.items()}


def test_the_core_has_no_import_circle():
    graph, circles = module_graph(), []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


# The layers, bottom first: a module-level import stays in its layer or goes down.
LAYERS = [
    ["hookfit.errors"],
    ["hookfit.hooks", "hookfit.distributed", "hookfit.background", "hookfit.monitor"],
    ["hookfit.trainer"],
    ["hookfit.saving"],  # it saves the trainer's models; Model.save imports it lazily
    ["hookfit.run", "hookfit.testing"],
    ["hookfit.cli"],
]


def layer_of(module: str) -> int | None:
    for level, packages in enumerate(LAYERS):
        if any(within(module, package) for package in packages):
            return level
    return None  # the package root and Keras's import paths re-export, below nothing


def test_no_module_level_import_runs_back_up_a_layer():
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in module_graph().items()
        for target in targets
        if layer_of(module) is not None
        and layer_of(target) is not None
        and layer_of(target) > layer_of(module)
    )
    assert upward == []


def test_the_trainer_imports_saving_only_where_it_saves():
    eager = sorted(
        f"{module} imports {target}"
        for module, targets in module_graph().items()
        if within(module, "hookfit.trainer")
        for target in targets
        if within(target, "hookfit.saving")
    )
    assert eager == []


def test_importing_the_models_does_not_load_saving():
    code = "import sys, hookfit.models; print(sorted(m for m in sys.modules if 'saving' in m))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


# Read private attributes only of self (or cls, or a name bound to self), or of a
# module: what these packages need of a model is its public trainer protocol
# (hookfit.trainer.steps.Trainable). (path, owner) pairs allowed, with why: none.
PRIVATE_READS_ALLOWED: set[tuple[str, str]] = set()
MODEL_USERS = [
    "hookfit.trainer",
    "hookfit.saving",
    "hookfit.testing",
    "hookfit.distributed",
    "hookfit.run",
    "hookfit.cli",
]


def private_reads(path: Path, core: Path = CORE) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = {"self", "cls"}
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and ast.unparse(node.value) in ("self", "cls"):
            own.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import):
            modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.update(alias.asname or alias.name for alias in node.names)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") and node.attr.endswith("__"):
            continue
        owner = ast.unparse(node.value)
        if owner in own or owner in modules:
            continue
        if (str(path.relative_to(core)), owner) not in PRIVATE_READS_ALLOWED:
            found.append(f"{path.relative_to(core.parent)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_nothing_outside_the_model_reads_its_private_attributes():
    reached = [
        read
        for path in sorted(CORE.rglob("*.py"))
        if any(within(module_name(path, CORE), package) for package in MODEL_USERS)
        for read in private_reads(path)
    ]
    assert reached == []


def test_the_private_attribute_rule_sees_a_model_read_from_outside(tmp_path):
    source = tmp_path / "hookfit" / "trainer" / "loops.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "import os\n"
        "from . import losses\n"
        "def train(model, step):\n"
        "    os._exit, losses._REGISTRY  # modules: allowed\n"
        "    return model._weights, step.model._grads\n"
    )
    assert private_reads(source, tmp_path / "hookfit") == [
        "hookfit/trainer/loops.py:5: model._weights",
        "hookfit/trainer/loops.py:5: step.model._grads",
    ]
