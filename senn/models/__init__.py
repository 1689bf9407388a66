"""Composable SENN models: concept encoders, relevance parametrizers, aggregators and the SENN itself."""

from senn.models.aggregators import SumAggregator
from senn.models.conceptizers import ConvConceptizer, IdentityConceptizer, MLPConceptizer
from senn.models.parametrizers import CIFARParametrizer, ConstantParametrizer, LeNetParametrizer, MLPParametrizer
from senn.models.plain import PlainClassifier
from senn.models.senn import SENN, SENNOutput

__all__ = [
    "SENN",
    "CIFARParametrizer",
    "ConstantParametrizer",
    "ConvConceptizer",
    "IdentityConceptizer",
    "LeNetParametrizer",
    "MLPConceptizer",
    "MLPParametrizer",
    "PlainClassifier",
    "SENNOutput",
    "SumAggregator",
]
