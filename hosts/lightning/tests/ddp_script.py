"""Run by test_distributed.py: Lightning DDP on 2 CPU processes (gloo), with
a val_loss that only rank 1 sees plateau (logged without sync_dist)."""

import json
import sys

import torch
from torch.nn import functional
from torch.utils.data import DataLoader, TensorDataset

from hookfit_lightning import Plugins
from hookfit_lightning._framework import pl


class RankLocal(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(8, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = functional.cross_entropy(self.net(x), y)
        self.log("loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        # rank 0 improves every epoch; rank 1 is flat from its first epoch
        value = 1.0 / (self.current_epoch + 1) if self.global_rank == 0 else 1.0
        self.log("val_loss", torch.tensor(value), on_step=False, on_epoch=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Epochs(pl.Callback):
    """Records, on every rank, the epochs that ended and where training stopped."""

    def __init__(self, plugins) -> None:
        self.plugins = plugins
        self.ended = []
        self.running = []

    def on_train_epoch_end(self, trainer, pl_module):
        self.ended.append(trainer.current_epoch)
        self.running = sorted(self.plugins.host.plugins)


def main(folder: str) -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 8, generator=generator)
    data = TensorDataset(x, (x[:, 0] > 0).long())
    plugins = Plugins(
        ["early_stopping", "csv_logger"],
        config={
            "callbacks": {
                "early_stopping": {"monitor": "val_loss", "patience": 1},
                "csv_logger": {"filename": f"{folder}/log.csv"},
            }
        },
    )
    epochs = Epochs(plugins)
    trainer = pl.Trainer(
        max_epochs=8,
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        callbacks=[plugins, epochs],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(RankLocal(), DataLoader(data, batch_size=16), DataLoader(data, batch_size=16))
    rank = trainer.global_rank
    result = {"ended": epochs.ended, "plugins": epochs.running}
    with open(f"{folder}/rank{rank}.json", "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
