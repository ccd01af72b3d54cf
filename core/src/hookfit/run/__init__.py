"""Run resolution: which plugins a run has, with which arguments, and why.

- `hookfit.run.catalogue`: the installed plugins, read from entry points.
- `hookfit.run.inspection`: a plugin's hooks and required hookfit, read
  without importing it.
- `hookfit.run.sources`: settings from code, command line, environment and
  config files, each with its origin.
- `hookfit.run.discovery`: finding a config file, safely.
- `hookfit.run.plan`: resolving the sources into the run's plugins.
- `hookfit.run.job`: the model and data ``hookfit train`` builds from a config.
"""
