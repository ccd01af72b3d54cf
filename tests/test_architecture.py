"""The architecture's rules, read from the source tree: which layer may
import which, that the core names no plugin, and that plugins use only the
public names and the host protocol.

Data flows one way: sources -> run plan (hookfit.run) -> trainer
(hookfit.trainer) -> hooks (hookfit.hooks) -> plugins. Every import counts,
also one inside a function.
"""

import ast
import re
import tomllib
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
