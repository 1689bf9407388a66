"""Concept-quality metrics on constructed representations: perfect, rotated, noise, permuted and negated."""

from __future__ import annotations

import numpy as np
import pytest

from senn.metrics import concept_alignment, concept_completeness, dci, niche_impurity, oracle_impurity

RNG = np.random.default_rng(0)
N, M = 600, 4
LATENT = RNG.normal(size=(N, M))
TRUE = (LATENT > 0).astype(float)
ROTATION = np.linalg.qr(RNG.normal(size=(M, M)))[0]
PERMUTATION, SIGNS = [2, 0, 3, 1], np.array([1.0, -1.0, -1.0, 1.0])


def reps() -> dict[str, np.ndarray]:
    """The sanity cases: the true concepts permuted and negated, a random rotation, noise."""
    return {
        "perfect": TRUE[:, PERMUTATION] * SIGNS,
        "rotated": LATENT @ ROTATION,
        "noise": RNG.normal(size=(N, M)),
    }


def test_alignment_perfect_matches_every_concept_and_noise_is_chance():
    r = reps()
    perfect = concept_alignment(r["perfect"], TRUE)
    assert perfect.auc.shape == (M, M) and perfect.mean_auc == 1.0
    assert perfect.matching.tolist() == [1, 3, 0, 2]  # the inverse of the permutation
    assert perfect.sign.tolist() == SIGNS[[1, 3, 0, 2]].tolist()  # the matched concepts' directions
    rotated, noise = concept_alignment(r["rotated"], TRUE), concept_alignment(r["noise"], TRUE)
    assert 0.6 < rotated.mean_auc < 0.97
    assert abs(noise.mean_auc - 0.5) < 0.06
    extra = concept_alignment(np.hstack([r["noise"], LATENT]), TRUE)  # K > M: the right ones are found
    assert extra.matching.tolist() == [4, 5, 6, 7] and extra.mean_auc > 0.99


def test_alignment_refuses_fewer_learned_than_true_concepts():
    with pytest.raises(ValueError, match="at least as many concepts"):
        concept_alignment(LATENT[:, :2], TRUE)
    with pytest.raises(ValueError, match="0 / 1"):
        concept_alignment(LATENT, TRUE * 2)


def test_oracle_impurity_orders_perfect_rotated_noise():
    r = reps()
    perfect, rotated, noise = (oracle_impurity(r[k], TRUE) for k in ("perfect", "rotated", "noise"))
    assert perfect < 0.05 < rotated
    assert abs(noise - 1 / np.sqrt(M)) < 0.1  # diagonal off by 0.5, the rest right: ‖·‖ = 0.5·√M, / (M/2)
    permuted = oracle_impurity(r["rotated"][:, [3, 1, 0, 2]] * SIGNS, TRUE)
    assert abs(permuted - rotated) < 0.03


def test_niche_impurity_pure_and_noise_leak_nothing_rotations_leak():
    r = reps()
    perfect, rotated, noise = (niche_impurity(r[k], TRUE) for k in ("perfect", "rotated", "noise"))
    assert abs(perfect - 0.5) < 0.05 and abs(noise - 0.5) < 0.05
    assert rotated > perfect + 0.1


def test_dci_disentangled_factors_score_one_and_rotations_less():
    perfect = dci(LATENT[:, PERMUTATION] * SIGNS, LATENT)
    assert perfect.disentanglement > 0.95 and perfect.completeness > 0.95 and perfect.informativeness > 0.9
    assert perfect.importance.shape == (M, M)
    rotated = dci(LATENT @ ROTATION, LATENT, regressor="lasso")
    assert rotated.disentanglement < 0.8 and rotated.informativeness > 0.95
    noise = dci(RNG.normal(size=(N, M)), LATENT)
    assert noise.informativeness < 0.1


def test_completeness_of_the_concepts_that_define_the_label():
    labels = (TRUE.sum(1) >= 2).astype(int)
    assert concept_completeness(TRUE[:, PERMUTATION] * SIGNS, labels, model_accuracy=1.0) > 0.95
    assert concept_completeness(RNG.normal(size=(N, M)), labels, model_accuracy=1.0) < 0.15
    with pytest.raises(ValueError, match="above chance"):
        concept_completeness(TRUE, labels, model_accuracy=0.1)


@pytest.mark.parametrize(
    ("score", "tolerance"),  # up to the probes' random initialization, which the column order changes
    [
        (lambda h: concept_alignment(h, TRUE).mean_auc, 1e-9),
        (lambda h: niche_impurity(h, TRUE), 0.03),
        (lambda h: dci(h, LATENT).disentanglement, 0.03),
        (lambda h: concept_completeness(h, (TRUE.sum(1) >= 2).astype(int), model_accuracy=1.0), 0.06),
    ],
    ids=["alignment", "niche_impurity", "dci", "completeness"],
)
def test_scores_ignore_the_order_and_sign_of_learned_concepts(score, tolerance):
    rotated = LATENT @ ROTATION
    assert abs(score(rotated[:, PERMUTATION] * SIGNS) - score(rotated)) <= tolerance
