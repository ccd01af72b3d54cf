"""Build wheels of hookfit distributions and install them (not editable).

Used by tox: every test environment installs the real wheels, so a missing
entry point, package file or dependency fails there as it would for users.

    python tools/install_wheels.py --wheelhouse DIR [--extras test] core plugins/history ...
    python tools/install_wheels.py --wheelhouse DIR --all
    python tools/install_wheels.py --wheelhouse DIR --all --hosts   # and every hosts/<name>

A wheel is rebuilt only when its distribution's files changed (the folder's
content hash is part of the wheelhouse path).

With uv in the environment (tox-uv's environments have it), uv builds and
installs: about a second where pip takes ten, in each of tox's many
environments. Without it, pip does the same.

Wheels are built with HOOKFIT_BUILD_FOR_INDEX=1: the core's requirements on
its default plugins stay plain version ranges, as in a published wheel,
rather than the direct references to plugins/<name> that core/hatch_build.py
writes from a clone. pip then takes the plugin wheels named on its command
line.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"__pycache__", ".pytest_cache", "tests", "build", "dist"}
FOR_INDEX = {"HOOKFIT_BUILD_FOR_INDEX": "1"}
"""Build-time environment: plain version requirements (core/hatch_build.py)."""


def uv() -> str | None:
    """The uv next to this interpreter, if installed there."""
    return shutil.which("uv", path=str(Path(sys.executable).parent))


def pip(*args: str) -> list[str]:
    """A pip command for this interpreter: uv's when there is one."""
    found = uv()
    if found:
        return [found, "pip", *args, "--python", sys.executable]
    return [sys.executable, "-m", "pip", *args]


def all_packages() -> list[Path]:
    """The core, then every plugin folder (``plugins/_*`` are not plugins)."""
    plugins = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())
    return [ROOT / "core", *(p for p in plugins if not p.name.startswith("_"))]


def all_hosts() -> list[Path]:
    """Every host folder (``hosts/<name>``: hookfit's plugins in other trainers)."""
    return sorted(p for p in (ROOT / "hosts").iterdir() if (p / "pyproject.toml").exists())


def required_plugins(folder: Path) -> list[Path]:
    """The plugin folders a distribution requires (the core requires History,
    BaseLogger and ProgbarLogger), so that pip finds them in this tree."""
    data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = data["project"].get("dependencies")
    if requirements is None:
        # the core's are dynamic: core/hatch_build.py reads them from here
        hook = data.get("tool", {}).get("hatch", {}).get("metadata", {}).get("hooks", {})
        requirements = hook.get("custom", {}).get("dependencies", [])
    found = []
    for requirement in requirements:
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0]
        if name.startswith("hookfit-"):
            found.append(ROOT / "plugins" / name.removeprefix("hookfit-").replace("-", "_"))
    return found


def content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    # every distribution's version comes from the root VERSION file
    digest.update((ROOT / "VERSION").read_bytes())
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not SKIP.intersection(rel.parts) and path.suffix != ".pyc":
            digest.update(str(rel).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build(folder: Path, wheelhouse: Path) -> Path:
    target = wheelhouse / f"{folder.name}-{content_hash(folder)}"
    wheels = list(target.glob("*.whl"))
    if len(wheels) == 1:
        return wheels[0]
    wheelhouse.mkdir(parents=True, exist_ok=True)
    # built beside the target and renamed into place: environments run in
    # parallel build the same wheel without seeing each other's half
    staging = Path(tempfile.mkdtemp(prefix=target.name + "-", dir=wheelhouse))
    found = uv()
    if found:
        command = [found, "build", "--wheel", "--no-build-isolation", "--quiet"]
        command += ["--python", sys.executable, "--out-dir", str(staging), str(folder)]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        command += ["--no-build-isolation", "--wheel-dir", str(staging), str(folder)]
    subprocess.run(command, check=True, env={**os.environ, **FOR_INDEX})
    try:
        staging.rename(target)
    except OSError:  # another environment got there first: same content
        shutil.rmtree(staging)
    (wheel,) = target.glob("*.whl")
    return wheel


def provided_extras(wheel: Path) -> set[str]:
    """The extras a wheel declares (each extra is asked for only where it exists)."""
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(name).decode().splitlines()
    return {line.split(":", 1)[1].strip() for line in lines if line.startswith("Provides-Extra:")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheelhouse", type=Path, required=True)
    parser.add_argument("--extras", default="", help="extras to install where provided: h5,test")
    parser.add_argument("--all", action="store_true", help="the core and every plugin")
    parser.add_argument("--hosts", action="store_true", help="also every hosts/<name>")
    parser.add_argument("folders", nargs="*", type=Path)
    args = parser.parse_args()
    folders = all_packages() if args.all else [ROOT / f for f in args.folders]
    if args.hosts:
        folders += all_hosts()
    if not folders:
        parser.error("name folders to install, or --all")
    for folder in list(folders):
        folders += [
            f for f in required_plugins(folder) if f.resolve() not in map(Path.resolve, folders)
        ]
    wanted = [e for e in args.extras.split(",") if e]
    wheels = []
    for folder in folders:
        wheel = build(folder, args.wheelhouse)
        extras = [e for e in wanted if e in provided_extras(wheel)]
        wheels.append(f"{wheel}[{','.join(extras)}]" if extras else str(wheel))
    # Installing the files by path makes pip use exactly these wheels for
    # the hookfit distributions and the index only for third-party ones.
    subprocess.run(pip("install", "--quiet", "--force-reinstall", "--no-deps", *wheels), check=True)
    subprocess.run(pip("install", "--quiet", *wheels), check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
