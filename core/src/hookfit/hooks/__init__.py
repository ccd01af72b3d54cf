"""The hook contract and its dispatch: what the trainer calls and what a
plugin implements.

- `hookfit.hooks.specs`: the hook specifications (Keras's callback methods).
- `hookfit.hooks.callback`: the Keras-compatible `Callback` base class.
- `hookfit.hooks.host`: what a plugin may use of its model (the protocols).
- `hookfit.hooks.arguments`: checking a plugin's arguments from its hints.
- `hookfit.hooks.dispatch`: the hook calls of one run.
- `hookfit.hooks.attribution`: warnings raised in hooks, reported at the
  user's line.

This layer imports nothing else of hookfit but its errors.
"""
