"""A plain PyTorch Lightning script: it never imports hookfit.

Run it with hookfit's plugins switched on from a config file, unchanged:

    pip install ./hosts/lightning ./plugins/csv_logger ...   # or hookfit-lightning
    HOOKFIT_CONFIG=examples/lightning.toml python examples/lightning_script.py

hookfit-lightning's ``callbacks_factory`` entry point adds
``hookfit_lightning.Plugins(config=$HOOKFIT_CONFIG)`` to the Trainer: early
stopping, a CSV log and a learning-rate schedule, from
``examples/lightning.toml``. Without HOOKFIT_CONFIG it adds nothing.
"""

import sys

import torch
from torch.nn import functional
from torch.utils.data import DataLoader, TensorDataset

try:
    import pytorch_lightning as pl
except ImportError:
    import lightning.pytorch as pl


class Classifier(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
        )

    def step(self, batch, prefix):
        x, y = batch
        logits = self.net(x)
        loss = functional.cross_entropy(logits, y)
        acc = (logits.argmax(1) == y).float().mean()
        self.log(f"{prefix}loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log(f"{prefix}acc", acc, on_step=False, on_epoch=True)
        return loss

    def training_step(self, batch, batch_idx):
        return self.step(batch, "")

    def validation_step(self, batch, batch_idx):
        return self.step(batch, "val_")

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def data(n: int, seed: int) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=generator)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return TensorDataset(x, y)


def main(epochs: int) -> None:
    pl.seed_everything(0)
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False
    )
    print("callbacks:", ", ".join(type(c).__name__ for c in trainer.callbacks), flush=True)
    trainer.fit(
        Classifier(),
        DataLoader(data(256, 0), batch_size=32, shuffle=True),
        DataLoader(data(64, 1), batch_size=64),
    )
    print(f"stopped after epoch {trainer.current_epoch}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
