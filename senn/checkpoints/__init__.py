"""Checkpoints: safe loading, atomic saving, concept names stored in them, and the models shipped with senn."""

from senn.checkpoints.loading import load_checkpoint, pretrained
from senn.checkpoints.naming import name_concepts
from senn.checkpoints.saving import AtomicCheckpointIO, EveryEpochCheckpoint
from senn.checkpoints.zoo import available

__all__ = ["AtomicCheckpointIO", "EveryEpochCheckpoint", "available", "load_checkpoint", "name_concepts", "pretrained"]
