"""Lightning training of SENNs: the LightningModule and the ``train(cfg)`` function behind ``senn-train``."""

from senn.training.module import SENNModule
from senn.training.train import check_compatible, train

__all__ = ["SENNModule", "check_compatible", "train"]
