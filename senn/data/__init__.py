"""LightningDataModules holding every split in memory as tensors."""

from senn.data.base import (
    DataError,
    DataNotFoundError,
    InMemoryDataModule,
    SplitDataModule,
    TensorBatchDataset,
    default_data_dir,
)
from senn.data.breast_cancer import BreastCancerDataModule
from senn.data.cifar10 import CIFAR10DataModule
from senn.data.compas import COMPASDataModule
from senn.data.csv import CSVDataModule
from senn.data.cub import CUBDataModule
from senn.data.generated import ConceptDataModule
from senn.data.image_folder import ImageFolderDataModule
from senn.data.mnist import MNISTDataModule
from senn.data.shapes import ShapesDataModule
from senn.data.synthetic import SyntheticDataModule
from senn.data.tabular import TabularDataModule
from senn.data.tabular_toy import TabularToyDataModule

__all__ = [
    "BreastCancerDataModule",
    "CIFAR10DataModule",
    "COMPASDataModule",
    "CSVDataModule",
    "CUBDataModule",
    "ConceptDataModule",
    "DataError",
    "DataNotFoundError",
    "ImageFolderDataModule",
    "InMemoryDataModule",
    "MNISTDataModule",
    "ShapesDataModule",
    "SplitDataModule",
    "SyntheticDataModule",
    "TabularDataModule",
    "TabularToyDataModule",
    "TensorBatchDataset",
    "default_data_dir",
]
