"""Lightning training: the SENN and plain-network LightningModules and the callbacks they train with."""

from senn.training.base import SupervisedModule
from senn.training.module import SENNModule
from senn.training.plain import PlainModule

__all__ = ["PlainModule", "SENNModule", "SupervisedModule"]
