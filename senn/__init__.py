"""senn: self-explaining neural networks, trained, explained and evaluated."""

from senn.checkpoints import pretrained
from senn.explain import Explanation, explain
from senn.losses import robustness_loss
from senn.models import SENN, SENNOutput
from senn.models.intervene import intervene

__all__ = ["SENN", "Explanation", "SENNOutput", "explain", "intervene", "pretrained", "robustness_loss"]
__version__ = "0.1.0"
