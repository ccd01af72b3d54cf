"""Plugin discovery through entry points: nothing imported until enabled."""

import json
import re
import sys

import pytest

import hookfit.callbacks
from hookfit import ConfigError, HookfitWarning, PluginLoadError, PluginNotFoundError
from hookfit.run.catalogue import Catalogue, PluginInfo, catalogue, load
from hookfit.run.plan import Planned, build_plugin, plan
from hookfit.run.sources import Setting

BROKEN = {"broken_plugin.py": "raise RuntimeError('boom at import')\n"}
GOOD = {
    "good_plugin.py": """
    from hookfit import Callback

    class Good(Callback):
        def __init__(self, label="good"):
            super().__init__()
            self.label = label
            self.epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1
    """
}


def test_the_default_plugins_are_catalogued_with_their_distributions():
    plugins = catalogue(refresh=True).plugins
    assert plugins["history"].dist == "hookfit-history"
    assert plugins["history"].default == "always"
    assert plugins["base_logger"].default == "always"
    assert plugins["progbar_logger"].default == "verbose"
    assert plugins["progbar_logger"].value == "hookfit_progbar_logger:ProgbarLogger"


def test_cataloguing_imports_no_plugin(hookfit_site):
    hookfit_site.add("hookfit-good", {"good": "good_plugin:Good"}, GOOD)
    info = catalogue().plugins["good"]
    assert (info.dist, info.version, info.default) == ("hookfit-good", "1.0", None)
    assert "good_plugin" not in sys.modules


def test_a_plugin_whose_import_raises_is_harmless_while_not_enabled(
    hookfit_site, hookfit_model, hookfit_data
):
    hookfit_site.add("hookfit-broken", {"broken": "broken_plugin:Broken"}, BROKEN)
    x, y = hookfit_data
    history = hookfit_model().fit(x, y, epochs=2, verbose=0)
    assert history.epoch == [0, 1]
    assert "broken_plugin" not in sys.modules


def test_an_enabled_plugin_that_fails_to_import_is_named_with_its_cause(
    hookfit_site, hookfit_model, hookfit_data
):
    hookfit_site.add("hookfit-broken", {"broken": "broken_plugin:Broken"}, BROKEN, version="2.5")
    x, y = hookfit_data
    with pytest.raises(PluginLoadError) as info:
        hookfit_model().fit(x, y, verbose=0, callbacks=["broken"])
    message = str(info.value)
    assert message.startswith(
        "Plugin 'broken' from hookfit-broken 2.5 failed to load (broken_plugin:Broken): "
        "RuntimeError: boom at import."
    )
    assert "-p no:broken" in message
    assert (info.value.plugin, info.value.dist) == ("broken", "hookfit-broken 2.5")
    assert isinstance(info.value.__cause__, RuntimeError)


def test_a_broken_default_plugin_warns_and_training_goes_on(
    hookfit_site, hookfit_model, hookfit_data
):
    hookfit_site.add(
        "hookfit-broken", {"broken": "broken_plugin:Broken"}, BROKEN, defaults={"broken": "always"}
    )
    x, y = hookfit_data
    with pytest.warns(HookfitWarning, match=r"hookfit-broken 1.0 failed to load .* goes on"):
        history = hookfit_model().fit(x, y, epochs=1, verbose=0)
    assert history.epoch == [0]


def test_a_missing_attribute_is_a_load_error(hookfit_site):
    hookfit_site.add("hookfit-good", {"typo": "good_plugin:Goood"}, GOOD)
    with pytest.raises(PluginLoadError, match=r"AttributeError: .*Goood"):
        load(catalogue().get("typo"))


def test_plugins_named_in_code_are_built_from_entry_points(
    hookfit_site, hookfit_model, hookfit_data
):
    hookfit_site.add("hookfit-good", {"good": "good_plugin:Good"}, GOOD)
    x, y = hookfit_data
    model = hookfit_model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=["good"])
    members = plan(["good"], verbose=0, config={"callbacks": {"good": {"label": "x"}}}).plugins
    assert members[0].obj.label == "x"
    assert members[0].obj.label == "x" and members[0].why == "code"


def test_default_on_is_declared_in_metadata_by_the_plugins_own_distribution(hookfit_site):
    hookfit_site.add(
        "hookfit-good", {"good": "good_plugin:Good"}, GOOD, defaults={"good": "always"}
    )
    hookfit_site.add("hookfit-meddler", {}, defaults={"history": "verbose", "stray": "always"})
    cat = catalogue()
    assert cat.plugins["good"].default == "always"
    assert cat.plugins["history"].default == "always"  # not the meddler's "verbose"
    names = [m.name for m in plan([], verbose=0).plugins]
    assert "good" in names


def test_a_bad_default_declaration_is_reported_and_ignored(hookfit_site):
    hookfit_site.add(
        "hookfit-good", {"good": "good_plugin:Good"}, GOOD, defaults={"good": "sometimes"}
    )
    cat = catalogue()
    assert cat.plugins["good"].default is None
    assert cat.bad_defaults == [
        "hookfit-good declares good = 'sometimes' in [hookfit.defaults]; expected one of "
        "always, verbose. The plugin stays off by default."
    ]


def test_two_distributions_claiming_one_name_are_recorded(hookfit_site):
    hookfit_site.add("hookfit-good", {"good": "good_plugin:Good"}, GOOD)
    hookfit_site.add("hookfit-copycat", {"good": "good_plugin:Good"})
    conflicts = catalogue().conflicts["good"]
    assert sorted(info.dist for info in conflicts) == ["hookfit-copycat", "hookfit-good"]


def test_an_unknown_name_lists_the_installed_plugins():
    with pytest.raises(PluginNotFoundError) as info:
        plan(["histroy"], verbose=0)
    message = str(info.value)
    assert message.startswith(
        "callbacks=[...]: no installed plugin is called 'histroy' (did you mean 'history'?)."
    )
    installed = re.search(r"Installed plugins: (.*)\.$", message).group(1).split(", ")
    assert {"base_logger", "history", "progbar_logger"} <= set(installed)
    assert installed == sorted(installed)


def test_an_uninstalled_builtin_names_its_distribution():
    with pytest.raises(
        PluginNotFoundError,
        match=r"It is provided by hookfit-remote-monitor: pip install hookfit-remote-monitor "
        r"\(from a clone of hookfit: pip install \./plugins/remote_monitor\)\. Installed",
    ):
        Catalogue().get("remote_monitor")


def test_from_hookfit_callbacks_imports_installed_plugins():
    from hookfit.callbacks import BaseLogger, History, ProgbarLogger
    from hookfit_history import History as Direct

    assert History is Direct
    assert {BaseLogger.__name__, ProgbarLogger.__name__} == {"BaseLogger", "ProgbarLogger"}
    assert {"Callback", "History"} <= set(dir(hookfit.callbacks))


def test_from_hookfit_callbacks_says_which_distribution_to_install(monkeypatch):
    monkeypatch.setattr(hookfit.callbacks, "catalogue", lambda: Catalogue())
    with pytest.raises(
        ImportError,
        match=r"it is provided by hookfit-tensorboard, which is not installed\. "
        r"Install it with: pip install hookfit-tensorboard \(from a clone of hookfit: "
        r"pip install \./plugins/tensorboard\)$",
    ):
        from hookfit.callbacks import TensorBoard  # noqa: F401
    with pytest.raises(AttributeError, match="no installed plugin provides a class of that name"):
        hookfit.callbacks.NoSuchCallback  # noqa: B018


def test_module_entry_points_and_arguments(hookfit_site):
    hookfit_site.add(
        "hookfit-mod",
        {"mod": "mod_plugin"},
        {
            "mod_plugin.py": """
        import hookfit

        @hookfit.hookimpl
        def on_train_begin():
            pass
        """
        },
    )
    info = catalogue().get("mod")
    assert build_plugin(Planned("mod", info, True, "code")).__name__ == "mod_plugin"
    setting = Setting(("callbacks", "mod", "patience"), 3, "x.toml: p", "file")
    with pytest.raises(
        ConfigError,
        match=r"is a module and takes no arguments, but x\.toml: p gives it \['patience'\]\. "
        r"Remove them\.",
    ):
        build_plugin(Planned("mod", info, True, "code", {"patience": setting}))


def test_unknown_arguments_name_the_plugin(hookfit_site):
    hookfit_site.add("hookfit-good", {"good": "good_plugin:Good"}, GOOD)
    setting = Setting(("callbacks", "good", "lable"), 1, "f.toml: callbacks.good.lable", "file")
    with pytest.raises(
        ConfigError,
        match=r"^f\.toml: callbacks\.good\.lable: unknown key \(did you mean 'label'\?\)\. "
        r"Good takes: label\.$",
    ):
        build_plugin(Planned("good", catalogue().get("good"), True, "code", {"lable": setting}))


def test_plugin_info_label():
    info = PluginInfo("x", "dist-x", "0.3", "mod:Cls")
    assert (info.label, info.module, info.attr) == ("x (dist-x 0.3)", "mod", "Cls")


EXITS = {"exiting_plugin.py": "import sys\n\nsys.exit(7)\n"}


def test_a_default_plugin_that_exits_at_import_warns_and_training_goes_on(
    hookfit_site, hookfit_model, hookfit_data
):
    hookfit_site.add(
        "hookfit-exits", {"exits": "exiting_plugin:Exits"}, EXITS, defaults={"exits": "always"}
    )
    x, y = hookfit_data
    with pytest.warns(
        HookfitWarning,
        match=r"Plugin 'exits' from hookfit-exits 1\.0 failed to load \(exiting_plugin:Exits\): "
        r"SystemExit: 7\. .* goes on",
    ):
        history = hookfit_model().fit(x, y, epochs=2, verbose=0)
    assert history.epoch == [0, 1]


def test_an_enabled_plugin_that_exits_at_import_is_a_load_error_naming_it(hookfit_site):
    hookfit_site.add("hookfit-exits", {"exits": "exiting_plugin:Exits"}, EXITS, version="3.1")
    with pytest.raises(
        PluginLoadError,
        match=r"^Plugin 'exits' from hookfit-exits 3\.1 failed to load \(exiting_plugin:Exits\): "
        r"SystemExit: 7\.",
    ) as info:
        load(catalogue().get("exits"))
    assert isinstance(info.value.__cause__, SystemExit)


def test_a_plugin_interrupted_at_import_still_interrupts(hookfit_site):
    hookfit_site.add(
        "hookfit-ctrl-c",
        {"ctrl_c": "ctrl_c_plugin:X"},
        {"ctrl_c_plugin.py": "raise KeyboardInterrupt\n"},
    )
    with pytest.raises(KeyboardInterrupt):
        load(catalogue().get("ctrl_c"))


def test_hookfit_plugins_reports_a_plugin_that_exits_at_import_among_the_others(
    hookfit_site, hookfit_cli
):
    hookfit_site.add(
        "hookfit-exits", {"exits": "exiting_plugin:Exits"}, EXITS, defaults={"exits": "always"}
    )
    hookfit_site.add(
        "hookfit-good", {"good": "good_plugin:Good"}, GOOD, defaults={"good": "always"}
    )
    result = hookfit_cli("plugins", "--json", env={"PYTHONPATH": str(hookfit_site.root)})
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["plugins"]}
    # reported as any default plugin that fails to load is: a warning naming it
    assert (
        "Plugin 'exits' from hookfit-exits 1.0 failed to load "
        "(exiting_plugin:Exits): SystemExit: 7. Fix or reinstall hookfit-exits"
    ) in result.stderr
    assert rows["good"]["status"] == "on" and rows["good"]["hooks"] == ["on_epoch_end"]
    assert rows["history"]["status"] == "on" and "exits" in rows
    text = hookfit_cli("plugins", env={"PYTHONPATH": str(hookfit_site.root)})
    assert text.returncode == 0 and "SystemExit: 7" in text.stderr
    assert "hookfit-exits" in text.stdout and "hookfit-good" in text.stdout


def without(*names):
    """The installed plugins, as if ``names`` were not installed."""
    installed = catalogue(refresh=True).plugins
    return Catalogue(plugins={k: v for k, v in installed.items() if k not in names})


def test_an_uninstalled_builtin_names_its_distribution_not_a_near_miss():
    with pytest.raises(PluginNotFoundError) as info:
        without("csv_logger").get("csv_logger")
    message = str(info.value)
    assert message.startswith(
        "callbacks=[...]: no installed plugin is called 'csv_logger'. It is provided by "
        "hookfit-csv-logger: pip install hookfit-csv-logger (from a clone of hookfit: "
        "pip install ./plugins/csv_logger). Installed plugins: "
    )
    assert "base_logger'?" not in message


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("csv_loger", "csv_logger"), ("CSVLogger", "csv_logger"), ("csvlogger", "csv_logger")],
    ids=["misspelt", "class-name", "squashed"],
)
def test_a_near_miss_of_an_uninstalled_builtin_gets_its_name_and_distribution(name, suggestion):
    with pytest.raises(
        PluginNotFoundError,
        match=rf"^callbacks=\[\.\.\.\]: no installed plugin is called '{name}' \(did you mean "
        rf"'{suggestion}'\?\)\. It is provided by hookfit-csv-logger: pip install "
        r"hookfit-csv-logger ",
    ):
        without("csv_logger").get(name)


@pytest.mark.parametrize(
    "name", ["early_stoping", "EarlyStopping", "earlystopping", "Early_Stopping"], ids=str
)
def test_a_misspelt_installed_plugin_gets_its_name_only(name):
    with pytest.raises(PluginNotFoundError) as info:
        catalogue(refresh=True).get(name)
    message = str(info.value)
    assert message.startswith(
        f"callbacks=[...]: no installed plugin is called {name!r} (did you mean "
        "'early_stopping'?). Installed plugins: "
    )
    assert "pip install" not in message


def test_an_unknown_name_with_no_near_miss_gets_no_install_advice():
    with pytest.raises(PluginNotFoundError) as info:
        catalogue().get("wandb")
    message = str(info.value)
    assert message.startswith("callbacks=[...]: no installed plugin is called 'wandb'. Installed")
    assert "pip install" not in message  # never a guessed distribution name


def test_import_star_brings_every_installed_plugin_class(hookfit_site):
    hookfit_site.add("hookfit-good", {"good": "good_plugin:Good"}, GOOD)
    assert "Good" in dir(hookfit.callbacks)
    assert "good_plugin" not in sys.modules  # dir() reads metadata only
    names = {}
    exec("from hookfit.callbacks import *", names)
    from hookfit_early_stopping import EarlyStopping
    from hookfit_history import History

    assert names["EarlyStopping"] is EarlyStopping and names["History"] is History
    assert names["Callback"] is hookfit.callbacks.Callback
    assert names["Good"].__module__ == "good_plugin"
    expected = {i.attr for i in catalogue().plugins.values()} | {"Callback"}
    assert set(hookfit.callbacks.__all__) == expected
    assert expected <= set(names)


def test_import_star_skips_a_broken_plugin_with_a_warning(hookfit_site):
    hookfit_site.add("hookfit-broken", {"broken": "broken_plugin:Broken"}, BROKEN)
    names = {}
    with pytest.warns(
        HookfitWarning,
        match=r"^Plugin 'broken' from hookfit-broken 1\.0 failed to load .*"
        r"from hookfit\.callbacks import \* goes on without it\.$",
    ):
        exec("from hookfit.callbacks import *", names)
    assert "Broken" not in names and "History" in names


@pytest.mark.parametrize("position", [0, 1], ids=["first", "second"])
def test_a_none_callback_is_refused_saying_what_an_entry_may_be(
    position, hookfit_model, hookfit_data
):
    x, y = hookfit_data
    callbacks = [None] if position == 0 else ["history", None]
    with pytest.raises(
        ConfigError,
        match=rf"^callbacks\[{position}\] is None\. A callback entry is a plugin object \(a "
        r"hookfit\.Callback instance, or an object or module with @hookfit\.hookimpl "
        r"functions\) or the name of an installed plugin, such as 'history'\. Remove the None",
    ):
        hookfit_model().fit(x, y, epochs=1, verbose=0, callbacks=callbacks)
