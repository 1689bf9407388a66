"""dSprites-style shapes drawn procedurally, with five binary concepts (Espinosa Zarlenga et al., AAAI 2023)."""

from __future__ import annotations

import math

import torch

from senn.data.generated import ConceptDataModule, Generated

SHAPES = ("square", "ellipse", "heart")
SCALES = torch.linspace(0.5, 1.0, 6)
ROTATIONS = torch.arange(40) * (2 * math.pi / 40)
POSITIONS = 32
SYMMETRY = torch.tensor([4, 2, 1])  # rotational symmetry order of square, ellipse, heart
BASE_SIZE = 0.3  # half-size of a scale-1 shape, in units of half the image width
MARGIN = 1.2 * BASE_SIZE  # shapes stay inside the image at every position


def visible_rotation(shape: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """Rotation modulo the shape's symmetry period (π/2 square, π ellipse, 2π heart), as a fraction in [0, 1).

    A square rotated by π looks exactly like the unrotated one, so only this part of the rotation can be
    seen in the image.
    """
    period = 2 * math.pi / SYMMETRY.to(shape.device)[shape]
    return torch.remainder(rotation, period) / period


def _heart(px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    hx, hy = px * 1.15, py * 1.15 + 0.15  # the heart curve spans x ∈ [-1.14, 1.14], y ∈ [-1, 1.24]
    return (hx**2 + hy**2 - 1) ** 3 - hx**2 * hy**3 <= 0


INSIDE = (  # whether shape-local points (px, py) (y up, unit size) are inside a square, an ellipse, a heart
    lambda px, py: torch.maximum(px.abs(), py.abs()) <= 1,
    lambda px, py: px**2 + (py / 0.5) ** 2 <= 1,
    _heart,
)


def render(
    shape: torch.Tensor,
    scale: torch.Tensor,
    rotation: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    image_size: int,
    supersample: int = 2,
) -> torch.Tensor:
    """White shapes on black (N, 1, S, S) in [0, 1], anti-aliased by ``supersample``² samples per pixel.

    ``x`` and ``y`` are positions in [0, 1] (left to right, top to bottom), ``rotation`` is counter-clockwise.
    """
    s = image_size * supersample
    coords = (torch.arange(s, dtype=torch.float32) + 0.5) / s * 2 - 1  # sub-pixel centres in [-1, 1]
    v, u = torch.meshgrid(coords, coords, indexing="ij")  # (s, s): row, column
    span = 1 - MARGIN
    cx = (-span + 2 * span * x).view(-1, 1, 1)
    cy = (span - 2 * span * y).view(-1, 1, 1)  # y = 0 is the top row
    dx, dy = u - cx, -v - cy  # (N, s, s), y up
    cos, sin = torch.cos(rotation).view(-1, 1, 1), torch.sin(rotation).view(-1, 1, 1)
    size = (scale * BASE_SIZE).view(-1, 1, 1)
    px, py = (cos * dx + sin * dy) / size, (-sin * dx + cos * dy) / size  # rotate back by -rotation
    mask = torch.zeros(len(shape), 1, s, s)
    for k, test in enumerate(INSIDE):
        rows = shape == k
        mask[rows, 0] = test(px[rows], py[rows]).float()
    return torch.nn.functional.avg_pool2d(mask, supersample)  # (N, 1, S, S)


def shape_concepts(factors: dict[str, torch.Tensor]) -> torch.Tensor:
    """The five binary concepts (N, 5) from the factor indices (see :class:`ShapesDataModule`)."""
    return torch.stack(
        [
            factors["shape"] != 2,  # c0: square or ellipse
            factors["scale"] < 3,  # c1: scale in the lower half of its 6 values
            factors["visible_rotation"] < 0.5,  # c2: rotation in the lower half of its visible period
            factors["x"] < POSITIONS // 2,  # c3: left half
            factors["y"] < POSITIONS // 2,  # c4: upper half
        ],
        dim=1,
    ).float()


def shape_labels(concepts: torch.Tensor) -> torch.Tensor:
    """The 8 classes: ``2·c1 + c2`` if c0, else ``4 + 2·c3 + c4``."""
    c = concepts.long()
    return torch.where(c[:, 0] == 1, 2 * c[:, 1] + c[:, 2], 4 + 2 * c[:, 3] + c[:, 4])


class ShapesDataModule(ConceptDataModule):
    """dSprites-style images: a white square, ellipse or heart on black, drawn in code (no download).

    Factors drawn uniformly and independently: shape (3), scale (6 values in [0.5, 1]), rotation (40
    values over 2π) and x / y position (32 values each). Five binary concepts, as in the concept-purity
    benchmark of Espinosa Zarlenga et al. (AAAI 2023):

    * c0 the shape is a square or an ellipse; c1 the scale is in the lower half;
    * c2 the rotation is below half of the shape's *visible* period: π/4 for a square, π/2 for an
      ellipse, π for a heart. The benchmark's "rotation below π" cannot be seen on a square or an
      ellipse (they look the same rotated by π), so no encoder could recover it; this can;
    * c3 the shape is in the left half, c4 in the upper half.

    8 classes: ``2·c1 + c2`` if c0, else ``4 + 2·c3 + c4``. With ``dependency`` p, each row's c3 copies
    c1 and its c4 copies c2 with probability p (its position is mirrored to the other half when they
    differ), so the concepts become statistically dependent. :attr:`factors` holds, per row, the shape
    index, scale, rotation (radians), visible rotation (fraction of the period), x and y (in [0, 1]).

    Args:
        image_size: height and width in pixels (64 like dSprites; 28–32 suits tests).
        dependency: probability that c3, c4 copy c1, c2 (0: independent concepts).
        num_train: rows generated for training and validation.
        num_test: test rows.
        **kwargs: :class:`~senn.data.generated.ConceptDataModule` arguments.
    """

    concept_names = ("square or ellipse", "small", "rotated < half period", "left", "top")
    factor_names = ("shape", "scale", "rotation", "visible rotation", "x", "y")
    num_classes = 8
    class_names = (
        "large square/ellipse, rotation >= half", "large square/ellipse, rotation < half",
        "small square/ellipse, rotation >= half", "small square/ellipse, rotation < half",
        "heart right bottom", "heart right top", "heart left bottom", "heart left top",
    )  # fmt: skip

    def __init__(
        self, image_size: int = 64, dependency: float = 0.0, num_train: int = 10000, num_test: int = 2000, **kwargs
    ) -> None:
        super().__init__(num_train=num_train, num_test=num_test, **kwargs)
        if image_size < 8:
            raise ValueError(f"data.image_size={image_size} must be >= 8 pixels")
        if not 0 <= dependency <= 1:
            raise ValueError(f"data.dependency={dependency} must be in [0, 1] (a probability)")
        self.image_size, self.dependency = image_size, dependency
        self.input_shape = (1, image_size, image_size)

    def generate(self, n: int, generator: torch.Generator) -> Generated:
        """Draw ``n`` shapes with their labels, concepts and factors."""
        index = {
            name: torch.randint(count, (n,), generator=generator)
            for name, count in [("shape", 3), ("scale", 6), ("rotation", 40), ("x", POSITIONS), ("y", POSITIONS)]
        }
        rotation = ROTATIONS[index["rotation"]]
        index["visible_rotation"] = visible_rotation(index["shape"], rotation)
        copy = torch.rand(n, 2, generator=generator) < self.dependency  # (n, 2): c3 <- c1, c4 <- c2
        concepts = shape_concepts(index)
        for col, (source, target, position) in enumerate([(1, 3, "x"), (2, 4, "y")]):
            flip = copy[:, col] & (concepts[:, source] != concepts[:, target])
            index[position] = torch.where(flip, POSITIONS - 1 - index[position], index[position])  # mirror
        concepts = shape_concepts(index)
        x_pos, y_pos = index["x"] / (POSITIONS - 1), index["y"] / (POSITIONS - 1)
        scale = SCALES[index["scale"]]
        chunks = zip(*(t.split(512) for t in (index["shape"], scale, rotation, x_pos, y_pos)))
        images = torch.cat([render(*parts, self.image_size) for parts in chunks])
        factors = torch.stack(
            [index["shape"].float(), scale, rotation, index["visible_rotation"], x_pos, y_pos], dim=1
        )  # (n, 6)
        return images, shape_labels(concepts), concepts, factors
