"""Plugin distributions add ``hookfit`` commands through the
``register_commands`` hook (entry-point group ``hookfit.commands``)."""

import json
import re
import subprocess
import sys

import pytest

from hookfit.cli.main import main

HELLO = {
    "hello_cmd.py": """
    import hookfit

    def run(args):
        print(f"hello {args.name}")
        return args.code

    @hookfit.hookimpl
    def register_commands(commands):
        parser = commands.add("hello", "Say hello.", run)
        parser.add_argument("--name", default="world")
        parser.add_argument("--code", type=int, default=0)
    """
}
SPY = {
    "spy_cmd.py": """
    import os
    from pathlib import Path

    import hookfit

    Path(os.environ["SPY_MARKER"]).write_text("imported")

    @hookfit.hookimpl
    def register_commands(commands):
        commands.add("spy", "Spy.", lambda args: 0)
    """
}
BROKEN = {"broken_cmd.py": "import not_a_module_anywhere\n"}


def command_module(body):
    return {"cmd_module.py": f"import hookfit\n\n@hookfit.hookimpl\n{body}"}


@pytest.fixture
def site(hookfit_site, tmp_path):
    """Two working command plugins (one leaves a marker when imported) and
    a broken one, for in-process calls and subprocesses alike."""
    hookfit_site.add("hookfit-hello", {}, HELLO, commands={"hello": "hello_cmd"})
    hookfit_site.add("hookfit-spy", {}, SPY, commands={"spy": "spy_cmd"})
    hookfit_site.add("hookfit-broken", {}, BROKEN, commands={"broken": "broken_cmd"}, version="0.9")
    marker = tmp_path / "spy-was-imported"
    return {"PYTHONPATH": str(hookfit_site.root), "SPY_MARKER": str(marker)}, marker


BROKEN_MESSAGE = (
    "hookfit: warning: Plugin 'broken' from hookfit-broken 0.9 failed to load (broken_cmd): "
    "ModuleNotFoundError: No module named 'not_a_module_anywhere'. Fix or reinstall "
    "hookfit-broken, or uninstall it; hookfit's other commands still work."
)


def test_help_lists_the_installed_commands_and_the_broken_plugin(hookfit_cli, site):
    env, _ = site
    result = hookfit_cli("--help", env=env)
    assert result.returncode == 0
    assert re.search(r"^    hello +Say hello\. \[hookfit-hello\]$", result.stdout, re.M)
    assert re.search(r"^    spy +Spy\. \[hookfit-spy\]$", result.stdout, re.M)
    assert re.search(r"^    monitor +Receive RemoteMonitor's posts", result.stdout, re.M)
    assert result.stderr.strip() == BROKEN_MESSAGE


def test_a_plugin_command_runs_beside_a_broken_plugin(hookfit_cli, site):
    env, _ = site
    result = hookfit_cli("hello", "--name", "<you>", "--code", "3", env=env)
    assert (result.returncode, result.stdout) == (3, "hello <you>\n")
    assert result.stderr.strip() == BROKEN_MESSAGE
    help_text = hookfit_cli("hello", "--help", env=env).stdout
    assert "--name NAME" in help_text and "Say hello." in help_text


def test_the_broken_plugins_command_is_unknown_and_the_cause_is_given(hookfit_cli, site):
    env, _ = site
    result = hookfit_cli("broken", env=env)
    assert result.returncode == 2
    assert BROKEN_MESSAGE in result.stderr
    assert "invalid choice: 'broken'" in result.stderr


def test_built_in_commands_import_no_command_plugin(hookfit_cli, site):
    env, marker = site
    result = hookfit_cli("config", env=env)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert "broken" not in result.stderr
    hookfit_cli("--help", env=env)
    assert marker.exists()


def test_plugins_lists_command_plugins_and_the_broken_one(hookfit_cli, site):
    env, _ = site
    result = hookfit_cli("plugins", "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = {row["plugin"]: row for row in json.loads(result.stdout)["commands"]}
    assert rows["hello"] == {
        "plugin": "hello",
        "distribution": "hookfit-hello",
        "version": "1.0",
        "target": "hello_cmd",
        "commands": ["hello"],
        "error": None,
    }
    assert rows["broken"]["commands"] == []
    assert f"warning: {rows['broken']['error']}" in BROKEN_MESSAGE
    text = hookfit_cli("plugins", env=env).stdout
    assert "commands: hello (hookfit-hello 1.0): hookfit hello\n" in text
    assert "commands: broken (hookfit-broken 0.9): ERROR\n    error: Plugin 'broken'" in text


def test_help_imports_no_numpy():
    code = (
        "import contextlib, io, sys\n"
        "from hookfit.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "print('numpy' in sys.modules, 'hookfit_remote_monitor._monitor' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "True"], result.stderr


REFUSALS = [
    (
        'def register_commands(commands):\n    commands.add("Bad Name", "x", print)\n',
        "Plugin bad (hookfit-bad 1.0) adds the command 'Bad Name'; a command name is 1-40 "
        "lower-case letters, digits and '-', starting with a letter. Rename it.",
    ),
    (
        'def register_commands(commands):\n    commands.add("train", "x", print)\n',
        "Plugin bad (hookfit-bad 1.0) adds the command 'train', which hookfit itself already "
        "provides. Uninstall one of them, or rename the command.",
    ),
    (
        'def register_commands(commands):\n    commands.add("hello", "x", print)\n',
        "Plugin bad (hookfit-bad 1.0) adds the command 'hello', which hookfit-hello 1.0 already "
        "provides. Uninstall one of them, or rename the command.",
    ),
    (
        'def register_commands(commands):\n    commands.add("x", "x", run=3)\n',
        "Plugin bad (hookfit-bad 1.0) adds the command 'x' with run=3, which is not callable. "
        "Pass the function that runs the command.",
    ),
    (
        "def on_epoch_end(epoch):\n    pass\n",
        "Plugin bad (hookfit-bad 1.0) is listed in [hookfit.commands] as 'cmd_module', which "
        "has no @hookfit.hookimpl register_commands(commands) function. Add one, or remove the "
        "entry point.",
    ),
    (
        "def register_commands(parser):\n    pass\n",
        "Plugin bad (hookfit-bad 1.0): Plugin 'bad' for hook 'register_commands'\n"
        "hookimpl definition: register_commands(parser)\n"
        "Argument(s) {'parser'} are declared in the hookimpl but can not be found in the "
        "hookspec",
    ),
    (
        "def register_commands(commands):\n    raise RuntimeError('boom')\n",
        "Plugin 'bad' from hookfit-bad 1.0 failed to add its commands (cmd_module): "
        "RuntimeError: boom. Fix or reinstall hookfit-bad, or uninstall it; hookfit's other "
        "commands still work.",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"),
    REFUSALS,
    ids=["malformed name", "built-in name", "another plugin's name", "run not callable",
         "no register_commands", "unknown hook argument", "the hook raises"],
)  # fmt: skip
def test_a_bad_command_plugin_is_reported_and_the_others_still_work(
    body, message, hookfit_site, capsys
):
    # Plugins register in name order: "a_hello" comes before "bad".
    hookfit_site.add("hookfit-hello", {}, HELLO, commands={"a_hello": "hello_cmd"})
    hookfit_site.add("hookfit-bad", {}, command_module(body), commands={"bad": "cmd_module"})
    assert main(["hello", "--name", "again"]) == 0
    out, err = capsys.readouterr()
    assert out == "hello again\n"
    assert err == f"hookfit: warning: {message}\n"


def test_a_plugin_command_refusing_its_input_exits_2(hookfit_site, capsys):
    refusing = command_module(
        "def register_commands(commands):\n"
        "    def run(args):\n"
        "        raise hookfit.ConfigError('refuse: got 1, expected 2')\n"
        '    commands.add("refuse", "Refuse.", run)\n'
    )
    hookfit_site.add("hookfit-refuse", {}, refusing, commands={"refuse": "cmd_module"})
    assert main(["refuse"]) == 2
    assert capsys.readouterr().err == "hookfit: error: refuse: got 1, expected 2\n"
