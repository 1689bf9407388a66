"""UCI breast cancer (Wisconsin diagnostic), shipped with scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer

from senn.data.tabular import TabularDataModule

FEATURES: list[str] = [str(name) for name in load_breast_cancer().feature_names]


class BreastCancerDataModule(TabularDataModule):
    """569 tumours, 30 real-valued features, binary target (1 = benign, scikit-learn's coding).

    Needs no download. Args are those of :class:`TabularDataModule`.
    """

    feature_names = FEATURES
    class_names = ("malignant", "benign")

    def load_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Features (569, 30) and labels (569,)."""
        data = load_breast_cancer()
        return data.data, data.target
