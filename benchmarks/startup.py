"""Start-up: `hookfit plugins` with every built-in plugin, and with 50 more
generated plugins installed: two fresh virtual environments, run in turn.

    python benchmarks/startup.py [--runs 21] [--extra 50] [--json out.json]

The generated plugins are real wheels (built here with zipfile) installed
with pip; each one's module leaves a marker file when imported, so the run
also shows that listing them imports none. Prints the median wall time of
each case and the median of the run-by-run differences.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def plugin_wheel(folder: Path, index: int, markers: Path) -> Path:
    """Write the wheel of a tiny plugin distribution ``hookfit-gen<index>``."""
    name, module = f"hookfit_gen{index}", f"hookfit_gen{index}"
    dist_info = f"{name}-1.0.dist-info"
    files = {
        f"{module}/__init__.py": (
            "from pathlib import Path\nfrom hookfit import Callback\n"
            f"Path({str(markers)!r}, {module!r}).touch()\n\n"
            f"class Gen{index}(Callback):\n    def on_epoch_end(self, epoch, logs=None):\n"
            "        pass\n"
        ),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: hookfit-gen{index}\nVersion: 1.0\n"
            "Requires-Dist: hookfit>=0.1,<0.2\n"
        ),
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: benchmark\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{dist_info}/entry_points.txt": f"[hookfit.callbacks]\ngen{index} = {module}:Gen{index}\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    target = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return target


def interleaved(commands: list[list[str]], runs: int, env: dict[str, str]) -> list[list[float]]:
    """Wall times of each command, run in turn ``runs`` times (after one
    round that warms the page cache), so that both see the same machine."""
    times: list[list[float]] = [[] for _ in commands]
    for round_ in range(runs + 1):
        for command, series in zip(commands, times, strict=True):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            if round_:
                series.append(time.perf_counter() - start)
    return times


def environment(folder: Path, env: dict[str, str]) -> str:
    """A fresh virtual environment with the core and every built-in plugin
    installed from wheels; returns its python."""
    venv.EnvBuilder(with_pip=True).create(folder)
    python = str(folder / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "hatchling>=1.21"], check=True, env=env
    )
    subprocess.run(
        [
            python,
            str(ROOT / "tools" / "install_wheels.py"),
            "--wheelhouse",
            str(folder.parent / "house"),
            "--extras",
            "h5",
            "--all",
        ],
        check=True,
        env=env,
    )
    return python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--extra", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # as a user runs it: no HOOKFIT_* switches, cached bytecode allowed
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HOOKFIT_", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"))
        }
        plain, more = environment(work / "builtins", env), environment(work / "extra", env)
        markers, wheels = work / "markers", work / "wheels"
        markers.mkdir()
        wheels.mkdir()
        built = [str(plugin_wheel(wheels, i, markers)) for i in range(args.extra)]
        subprocess.run(
            [more, "-m", "pip", "install", "--quiet", "--no-deps", *built], check=True, env=env
        )
        listed = subprocess.run(
            [more, "-m", "hookfit", "plugins", "--json"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        count = len(json.loads(listed.stdout)["plugins"])
        base_times, extra_times = interleaved(
            [[plain, "-m", "hookfit", "plugins"], [more, "-m", "hookfit", "plugins"]],
            args.runs,
            env,
        )
        imported = sorted(p.name for p in markers.iterdir())
    builtins, extra = statistics.median(base_times), statistics.median(extra_times)
    added = statistics.median(b - a for a, b in zip(base_times, extra_times, strict=True))
    figures = {
        "plugins_listed": count,
        "builtins_ms": round(builtins * 1e3, 1),
        "with_extra_ms": round(extra * 1e3, 1),
        "added_ms": round(added * 1e3, 1),
        "extra_plugins": args.extra,
        "extra_imported": imported,
    }
    print(f"hookfit plugins, median of {args.runs} runs:")
    print(f"  13 built-ins:               {figures['builtins_ms']:7.1f} ms")
    print(
        f"  + {args.extra} generated plugins:   {figures['with_extra_ms']:7.1f} ms ({count} listed)"
    )
    print(f"  added by the {args.extra}:          {figures['added_ms']:7.1f} ms")
    print(f"  generated plugins imported: {len(imported)} {imported or ''}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if not imported else 1


if __name__ == "__main__":
    sys.exit(main())
