"""Concept quality against ground truth: alignment, oracle and niche impurity, DCI, completeness.

Notation: learned concepts ``ĥ`` (N, K), a model's concept activations on N held-out inputs; true binary
concepts ``c`` (N, M); continuous factors ``z`` (N, F). Every metric splits the N inputs once into a
probe-training and a test part (``test_fraction``, seeded) and reports test-part numbers. All are
invariant to permuting learned concepts and to their signs. Learned concepts may be any encoder's: a
SENN's h(x), a concept bottleneck's predicted concepts, a random projection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LassoCV

from senn.metrics.probes import Array, ProbeMLPs, as_matrix, check_binary, roc_auc, split_indices, standardize


@dataclass(frozen=True)
class ConceptAlignment:
    """How well each learned concept ranks the inputs by each true concept, and the best one-to-one matching."""

    auc: torch.Tensor
    """(K, M) held-out sign-free ROC-AUC of true concept j from learned concept i alone."""
    matching: torch.Tensor
    """(M,) the learned concept matched to each true concept (Hungarian, one-to-one)."""
    sign: torch.Tensor
    """(M,) +1 where the matched learned concept grows with its true concept, −1 where it shrinks."""

    @property
    def matched_auc(self) -> torch.Tensor:
        """(M,) the AUC of each true concept's matched learned concept."""
        return self.auc[self.matching, torch.arange(len(self.matching))]

    @property
    def mean_auc(self) -> float:
        """Mean matched AUC: 1 when every true concept has a learned concept that separates it perfectly."""
        return float(self.matched_auc.mean())


def _inputs(learned: Array, other: Array, name: str = "true concepts") -> tuple[np.ndarray, np.ndarray]:
    """Learned concepts (N, K) and ``name`` (N, M) as matrices of the same inputs, or ``ValueError``."""
    h, c = as_matrix(learned, "learned concepts"), as_matrix(other, name)
    if len(h) != len(c):
        raise ValueError(f"learned concepts have {len(h)} rows but {name} {len(c)}; pass the same inputs")
    return h, c


def concept_alignment(learned: Array, true: Array, test_fraction: float = 0.5, seed: int = 0) -> ConceptAlignment:
    """Per-pair AUCs of learned (N, K) against true binary concepts (N, M), and the matching that maximizes them.

    ``A[i, j]`` is the ROC-AUC of ranking the test inputs by ``ĥ_i`` for the label ``c_j``, with the
    direction (sign of ``ĥ_i``) chosen on the training part, so ``max(A, 1 − A)`` is taken without
    peeking at the test part: noise scores ≈ 0.5, a perfect concept 1. The matching pairs each true
    concept with a distinct learned one maximizing the total AUC (Hungarian algorithm). Needs K >= M.
    """
    h, c = _inputs(learned, true)
    k, m = h.shape[1], c.shape[1]
    if k < m:
        raise ValueError(
            f"{k} learned concepts cannot be matched one-to-one with {m} true concepts; "
            "the model needs at least as many concepts as there are annotated ones (num_concepts >= M)"
        )
    check_binary(c)
    train, test = split_indices(len(h), test_fraction, seed)
    direction = np.where(roc_auc(h[train], c[train]) >= 0.5, 1.0, -1.0)  # (K, M)
    test_auc = roc_auc(h[test], c[test])
    auc = np.where(direction > 0, test_auc, 1 - test_auc)
    auc = np.nan_to_num(auc, nan=0.5)
    rows, cols = linear_sum_assignment(-auc)
    matching = np.empty(m, dtype=np.int64)
    matching[cols] = rows
    sign = direction[matching, np.arange(m)]
    return ConceptAlignment(torch.as_tensor(auc), torch.as_tensor(matching), torch.as_tensor(sign))


def _probe_auc_matrix(sources: np.ndarray, true: np.ndarray, train: np.ndarray, test: np.ndarray, seed: int):
    """(S, M) test AUCs of one small MLP per (source column i, true concept j) predicting c_j from column i alone."""
    s, m = sources.shape[1], true.shape[1]
    x_train, x_test = standardize(sources[train], sources[test])
    pairs = lambda x: np.repeat(x, m, axis=1)[..., None]  # noqa: E731  (N, S·M, 1): column i for each j
    targets = np.tile(true[train], (1, s))[..., None]  # (N, S·M, 1)
    probes = ProbeMLPs(s * m, 1, 1, seed=seed).fit(pairs(x_train), targets)
    scores = probes.predict(pairs(x_test))[..., 0]  # (N_test, S·M)
    auc = np.array([roc_auc(scores[:, p : p + 1], true[test, p % m : p % m + 1])[0, 0] for p in range(s * m)])
    return auc.reshape(s, m)


def oracle_impurity(
    learned: Array, true: Array, matching: Array | None = None, test_fraction: float = 0.3, seed: int = 0
) -> float:
    """Oracle impurity score, OIS (Espinosa Zarlenga et al., AAAI 2023); 0 is pure, lower is better.

    Purity matrix ``π[i, j]``: test AUC of a small MLP (32 hidden units) predicting ``c_j`` from the
    single learned concept ``ĥ_i``; oracle matrix ``π*[i, j]``: the same from ``c_i`` (diagonal 1).
    ``π`` is reduced to the M learned concepts matched to the true ones (``matching``, default
    :func:`concept_alignment`'s Hungarian matching), then ``OIS = ‖π − π*‖_F / (M / 2)``: 0 when each
    learned concept carries exactly what its true concept carries about every other concept, about 1
    when every entry is off by 0.5. (The original code matches greedily and skips the M/2
    normalization; here the matching is optimal and the normalization always applied.)
    """
    h, c = _inputs(learned, true)
    check_binary(c)
    m = c.shape[1]
    rows = concept_alignment(h, c, seed=seed).matching.numpy() if matching is None else np.asarray(matching)
    if rows.shape != (m,):
        raise ValueError(f"matching must name one learned concept per true concept ({m}), got shape {rows.shape}")
    train, test = split_indices(len(h), test_fraction, seed)
    purity = _probe_auc_matrix(h[:, rows], c, train, test, seed)
    oracle = _probe_auc_matrix(c, c, train, test, seed)
    np.fill_diagonal(oracle, 1.0)
    return float(np.linalg.norm(purity - oracle) / (m / 2))


def niche_impurity(
    learned: Array, true: Array, test_fraction: float = 0.3, seed: int = 0, delta_beta: float = 0.05
) -> float:
    """Niche impurity score, NIS (Espinosa Zarlenga et al., AAAI 2023); lower is better.

    One MLP (32 hidden units) is trained to predict all M true concepts from all K learned ones. For a
    threshold β, the *niche* of ``c_j`` is the set of learned concepts whose |Pearson correlation| with
    ``c_j`` on the training part exceeds β. Zeroing the niche (learned concepts are standardized, so 0
    is their mean) and predicting ``c_j`` from the rest gives a test AUC: how much of ``c_j`` leaks
    through concepts outside its niche. NIS is the area under the mean-over-j AUC curve for
    β = 0, δ, …, 1 − δ, divided by the β range so that it reads as an AUC: ≈ 0.5 when nothing leaks
    (pure concepts, and pure noise too), up to 1 when every true concept is fully recoverable from
    outside its niche. (The original code reports the undivided area, 0.95× this.)
    """
    h, c = _inputs(learned, true)
    check_binary(c)
    k, m = h.shape[1], c.shape[1]
    train, test = split_indices(len(h), test_fraction, seed)
    x_train, x_test = standardize(h[train], h[test])
    predictor = ProbeMLPs(1, k, m, seed=seed).fit(x_train[:, None], c[train][:, None])
    corr = np.abs(np.nan_to_num(np.corrcoef(np.hstack([x_train, c[train]]).T)[:k, k:]))  # (K, M)
    betas = np.arange(0.0, 1.0, delta_beta)
    curve = []
    for beta in betas:
        outside = (corr <= beta).T  # (M, K): the concepts outside each true concept's niche
        masked = x_test[:, None, :] * outside[None]  # (N, M, K): one masked copy per true concept
        scores = predictor.predict(masked.reshape(-1, 1, k))[:, 0].reshape(len(test), m, m)  # (N, M inputs, M outs)
        aucs = [roc_auc(scores[:, j, j : j + 1], c[test, j : j + 1])[0, 0] for j in range(m)]
        curve.append(np.nanmean(aucs))
    return float(np.trapezoid(curve, betas) / (betas[-1] - betas[0]))


@dataclass(frozen=True)
class DCIScores:
    """Disentanglement, completeness and informativeness of learned concepts against generative factors."""

    disentanglement: float
    """1: each learned concept matters for one factor only."""
    completeness: float
    """1: each factor is captured by one learned concept only."""
    informativeness: float
    """Mean held-out R² of predicting each factor from all learned concepts (accuracy for binary factors)."""
    importance: torch.Tensor
    """(K, F) importance of learned concept i for factor f."""


def _weighted_purity(importance: np.ndarray, base: int) -> float:
    """``Σ_i (1 − H_base(R_i / Σ R_i)) · Σ R_i / Σ R`` over the rows i of an importance matrix R (0 when R is 0)."""
    weight = importance.sum(1)
    rows = weight > 0
    p = importance[rows] / weight[rows, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.where(p > 0, -p * np.log(p), 0.0).sum(1) / np.log(base)
    return float(((1 - entropy) * weight[rows]).sum() / weight.sum()) if weight.sum() > 0 else 0.0


def dci(
    learned: Array, factors: Array, regressor: str = "trees", test_fraction: float = 0.3, seed: int = 0
) -> DCIScores:
    """DCI (Eastwood & Williams, ICLR 2018) of learned concepts (N, K) against factors (N, F).

    One regressor per factor from all learned concepts: gradient-boosted trees (``"trees"``, importances
    = the trees' impurity decrease) or a cross-validated lasso on standardized concepts (``"lasso"``,
    importances = |weights|). With R the (K, F) importance matrix: disentanglement averages
    ``1 − H_F(R_i / Σ_f R_if)`` over learned concepts, weighted by ``Σ_f R_if / Σ R``; completeness
    averages ``1 − H_K(R_·f / Σ_i R_if)`` over factors, weighted by ``Σ_i R_if / Σ R`` (entropies in
    log base F and K); informativeness is the held-out R² (accuracy for two-valued factors), averaged.
    """
    h, z = _inputs(learned, factors, "factors")
    k, f = h.shape[1], z.shape[1]
    if k < 2 or f < 2:
        raise ValueError(f"DCI needs at least 2 learned concepts and 2 factors, got K={k}, F={f}")
    if regressor not in ("trees", "lasso"):
        raise ValueError(f"regressor={regressor!r} is not 'trees' or 'lasso'")
    train, test = split_indices(len(h), test_fraction, seed)
    x_train, x_test = standardize(h[train], h[test])
    importance, informativeness = np.zeros((k, f)), []
    for j in range(f):
        target = z[:, j]
        if regressor == "trees":
            model = GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=seed)
            model.fit(x_train, target[train])
            importance[:, j] = model.feature_importances_
        else:
            model = LassoCV(cv=3, random_state=seed).fit(x_train, target[train])
            importance[:, j] = np.abs(model.coef_)
        prediction = model.predict(x_test)
        values = np.unique(target)
        if len(values) == 2:  # a binary factor: accuracy of the nearer value
            nearest = values[np.abs(prediction[:, None] - values[None]).argmin(1)]
            informativeness.append(float((nearest == target[test]).mean()))
        else:
            residual = ((prediction - target[test]) ** 2).sum()
            informativeness.append(float(1 - residual / ((target[test] - target[test].mean()) ** 2).sum()))
    scores = [_weighted_purity(importance, f), _weighted_purity(importance.T, k)]  # D over concepts, C over factors
    return DCIScores(*scores, float(np.mean(informativeness)), torch.as_tensor(importance))


def concept_completeness(
    learned: Array,
    labels: Array,
    model_accuracy: float,
    test_fraction: float = 0.3,
    seed: int = 0,
    min_margin: float = 0.05,
) -> float:
    """Completeness score (Yeh et al., NeurIPS 2020): ``(a_c − a_r) / (a_m − a_r)``.

    ``a_c`` is the test accuracy of a small MLP (32 hidden units) predicting the task label from the
    learned concepts alone, ``a_m`` the model's own accuracy (``model_accuracy``), ``a_r`` chance (the
    majority class's share of the test part). 1: the concepts carry everything the model knows; 0:
    nothing beyond chance; above 1 when the probe beats the model. ``labels`` are class indices (N,) (0 / 1
    for binary tasks). Undefined (``ValueError``) for a model less than ``min_margin`` above chance, where
    the ratio only amplifies noise.
    """
    h, y = _inputs(learned, labels, "labels")
    y = y[:, 0].astype(np.int64)
    train, test = split_indices(len(h), test_fraction, seed)
    x_train, x_test = standardize(h[train], h[test])
    classes = int(y.max()) + 1
    probe = ProbeMLPs(1, h.shape[1], classes, loss="ce", seed=seed).fit(x_train[:, None], y[train][:, None])
    a_c = float((probe.predict(x_test[:, None])[:, 0].argmax(1) == y[test]).mean())
    a_r = float(np.bincount(y[test], minlength=classes).max() / len(test))
    if model_accuracy < a_r + min_margin:
        raise ValueError(
            f"model_accuracy={model_accuracy:.3f} is not {min_margin} above chance ({a_r:.3f}): completeness undefined"
        )
    return (a_c - a_r) / (model_accuracy - a_r)
