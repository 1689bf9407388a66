"""Lightning training: the SENN and plain-network LightningModules and the ``train(cfg)`` behind ``senn-train``."""

from senn.training.checkpoint import load_checkpoint
from senn.training.module import SENNModule
from senn.training.plain import PlainModule
from senn.training.train import check_compatible, train

__all__ = ["PlainModule", "SENNModule", "check_compatible", "load_checkpoint", "train"]
