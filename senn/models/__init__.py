"""Composable SENN models: conceptizers, relevance parametrizers, aggregators and the SENN itself."""

from senn.models.aggregators import SumAggregator
from senn.models.backbones import BackboneConceptizer, BackboneParametrizer
from senn.models.conceptizers import ConvConceptizer, IdentityConceptizer, MLPConceptizer
from senn.models.embeddings import ConceptEmbeddingConceptizer, ConceptEmbeddingParametrizer
from senn.models.parametrizers import CIFARParametrizer, ConstantParametrizer, LeNetParametrizer, MLPParametrizer
from senn.models.plain import PlainNetwork
from senn.models.senn import SENN, SENNOutput

__all__ = [
    "SENN",
    "BackboneConceptizer",
    "BackboneParametrizer",
    "CIFARParametrizer",
    "ConceptEmbeddingConceptizer",
    "ConceptEmbeddingParametrizer",
    "ConstantParametrizer",
    "ConvConceptizer",
    "IdentityConceptizer",
    "LeNetParametrizer",
    "MLPConceptizer",
    "MLPParametrizer",
    "PlainNetwork",
    "SENNOutput",
    "SumAggregator",
]
