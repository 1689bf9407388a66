"""LightningDataModules holding every split in memory as tensors."""

from senn.data.base import DataNotFoundError, InMemoryDataModule, TensorBatchDataset, default_data_dir
from senn.data.breast_cancer import BreastCancerDataModule
from senn.data.cifar10 import CIFAR10DataModule
from senn.data.compas import COMPASDataModule
from senn.data.mnist import MNISTDataModule
from senn.data.synthetic import SyntheticDataModule
from senn.data.tabular import TabularDataModule

__all__ = [
    "BreastCancerDataModule",
    "CIFAR10DataModule",
    "COMPASDataModule",
    "DataNotFoundError",
    "InMemoryDataModule",
    "MNISTDataModule",
    "SyntheticDataModule",
    "TabularDataModule",
    "TensorBatchDataset",
    "default_data_dir",
]
