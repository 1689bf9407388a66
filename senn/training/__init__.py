"""Lightning training: the SENN and plain-network LightningModules and the ``train(cfg)`` behind ``senn-train``."""

from senn.training.checkpoint import load_checkpoint
from senn.training.module import SENNModule
from senn.training.plain import PlainModule
from senn.training.sizes import check_compatible, fill_from_data
from senn.training.train import train

__all__ = ["PlainModule", "SENNModule", "check_compatible", "fill_from_data", "load_checkpoint", "train"]
