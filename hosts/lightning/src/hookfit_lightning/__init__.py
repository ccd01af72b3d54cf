"""hookfit's plugins in PyTorch Lightning (``pytorch_lightning`` or
``lightning.pytorch``, whichever is installed).

    trainer = pl.Trainer(callbacks=[Plugins(["early_stopping"], config="hookfit.toml")])

Or, without changing the script: ``HOOKFIT_CONFIG=hookfit.toml python train.py``
(`hookfit_lightning.factory`).
"""

from __future__ import annotations

from .host import LightningHost
from .plugins import Plugins

__all__ = ["LightningHost", "Plugins"]
