"""Small predictors the concept-quality metrics train on a held-out split: batched MLP probes and ROC-AUC."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import rankdata

Array = np.ndarray | torch.Tensor


def as_matrix(values: Array, name: str, allow_nan: bool = False) -> np.ndarray:
    """``values`` as a float64 (N, K) array; ``ValueError`` naming ``name`` for another rank or non-finite values."""
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    array = array.astype(np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty (N, K) matrix, got shape {array.shape}")
    if not allow_nan and not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values; drop those rows first")
    return array


def check_binary(true: np.ndarray, name: str = "true concepts") -> None:
    """``ValueError`` unless every entry is 0 or 1 and every column has both values."""
    if not np.isin(true, (0.0, 1.0)).all():
        raise ValueError(f"{name} must be 0 / 1 annotations (no NaN); got values {np.unique(true)[:5]}")
    constant = [j for j in range(true.shape[1]) if true[:, j].min() == true[:, j].max()]
    if constant:
        raise ValueError(f"{name} {constant} take one value only on these inputs: no AUC is defined; use more inputs")


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random (train, test) split of ``range(n)``."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction} must be in (0, 1)")
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(test_fraction * n))
    return order[n_test:], order[:n_test]


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """ROC-AUC of every score column (N, K) for every binary label column (N, M) -> (K, M).

    Mann-Whitney form with average ranks for ties; NaN where a label column has one class only.
    """
    ranks = rankdata(scores, axis=0)  # (N, K)
    positives = labels.sum(0)  # (M,)
    negatives = len(labels) - positives
    rank_sums = ranks.T @ labels  # (K, M): sum of the positives' ranks
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rank_sums - positives * (positives + 1) / 2) / (positives * negatives)


def standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Every array scaled with the mean and standard deviation of ``train``'s columns."""
    mean, std = train.mean(0), train.std(0)
    std = np.where(std > 1e-12, std, 1.0)
    return [(a - mean) / std for a in (train, *others)]


class ProbeMLPs:
    """P independent one-hidden-layer MLPs trained at once, full batch with Adam.

    Inputs (N, P, D), outputs (N, P, O). ``loss="bce"`` trains O binary outputs against 0 / 1 targets
    (N, P, O); ``loss="ce"`` trains O-class softmax outputs against class indices (N, P).
    """

    def __init__(
        self, problems: int, inputs: int, outputs: int, hidden: int = 32, loss: str = "bce", seed: int = 0
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        p, d, h, o = problems, inputs, hidden, outputs
        self.w1 = (torch.randn(p, d, h, generator=g, dtype=torch.float32) / d**0.5).requires_grad_()
        self.b1 = torch.zeros(p, h, dtype=torch.float32, requires_grad=True)
        self.w2 = (torch.randn(p, h, o, generator=g, dtype=torch.float32) / h**0.5).requires_grad_()
        self.b2 = torch.zeros(p, o, dtype=torch.float32, requires_grad=True)
        self.loss = loss

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N, P, D) -> (N, P, O)."""
        hidden = torch.relu(torch.baddbmm(self.b1.unsqueeze(1), x.transpose(0, 1), self.w1))  # (P, N, H)
        return torch.baddbmm(self.b2.unsqueeze(1), hidden, self.w2).transpose(0, 1)  # (P, N, O) -> (N, P, O)

    def fit(self, x: np.ndarray, y: np.ndarray, steps: int = 400, lr: float = 0.02) -> ProbeMLPs:
        """Train on inputs (N, P, D) and targets; returns ``self``."""
        x_t, y_t = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
        params = [self.w1, self.b1, self.w2, self.b2]
        optimizer = torch.optim.Adam(params, lr=lr)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny tensors: threads only add synchronisation
        try:
            with torch.enable_grad():  # also when called under no_grad
                self._train(optimizer, x_t, y_t, steps)
        finally:
            torch.set_num_threads(threads)
        return self

    def _train(self, optimizer: torch.optim.Optimizer, x_t: torch.Tensor, y_t: torch.Tensor, steps: int) -> None:
        for _ in range(steps):
            optimizer.zero_grad()
            out = self.logits(x_t)
            if self.loss == "bce":
                loss = F.binary_cross_entropy_with_logits(out, y_t, reduction="sum") / len(x_t)
            else:
                loss = F.cross_entropy(out.flatten(0, 1), y_t.long().flatten(), reduction="sum") / len(x_t)
            loss.backward()
            optimizer.step()

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Logits (N, P, O) for inputs (N, P, D)."""
        return self.logits(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
