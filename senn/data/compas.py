"""ProPublica's COMPAS recidivism data with the paper's preprocessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from senn.data.base import DataNotFoundError, require_files
from senn.data.tabular import TabularDataModule

URL = "https://raw.githubusercontent.com/propublica/compas-analysis/master/compas-scores-two-years.csv"
FILE = Path("COMPAS") / "compas-scores-two-years.csv"
MD5 = "9165d40c400bba93a8cffece2b74622b"
"""MD5 of ProPublica's file as every recorded COMPAS result read it."""
COLUMNS = [
    "days_b_screening_arrest", "is_recid", "c_charge_degree", "score_text",
    "priors_count", "age_cat", "race", "sex", "two_year_recid",
]  # fmt: skip
FEATURES = [
    "two_year_recid", "priors_count", "age_above_45", "age_below_25", "african_american", "asian",
    "hispanic", "native_american", "other_race", "female", "misdemeanor",
]  # fmt: skip


def preprocess(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """ProPublica's filters and the paper's 11 binary / rescaled features; target = COMPAS score not "Low".

    Keeps screenings within 30 days of arrest, known recidivism, no ordinary-traffic charges and a
    score; ``priors_count`` is rescaled to [0, 1]. This is the feature set of the
    ``propublica_data_for_fairml`` table the paper used, derived from the raw CSV.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the COMPAS table lacks the columns {missing}; it must be ProPublica's compas-scores-two-years.csv"
        )
    numeric = ["days_b_screening_arrest", "is_recid", "priors_count", "two_year_recid"]
    for column in numeric:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"COMPAS column {column!r} has an unparsable value {frame[column].iloc[row]!r} (row {row + 2})"
            )
        frame = frame.assign(**{column: values})
    keep = (
        frame.days_b_screening_arrest.between(-30, 30)
        & (frame.is_recid != -1)
        & (frame.c_charge_degree != "O")
        & frame.score_text.notna()
        & (frame.score_text != "N/A")
    )
    df = frame[keep]
    race = df.race.astype(str)
    features = pd.DataFrame(
        {
            "two_year_recid": df.two_year_recid,
            "priors_count": df.priors_count / max(df.priors_count.max(), 1),
            "age_above_45": df.age_cat == "Greater than 45",
            "age_below_25": df.age_cat == "Less than 25",
            "african_american": race == "African-American",
            "asian": race == "Asian",
            "hispanic": race == "Hispanic",
            "native_american": race == "Native American",
            "other_race": race == "Other",
            "female": df.sex == "Female",
            "misdemeanor": df.c_charge_degree == "M",
        }
    ).astype(np.float32)
    return features.reset_index(drop=True), (df.score_text != "Low").to_numpy(np.float32)


def drop_conflicting(features: pd.DataFrame, labels: np.ndarray, consensus_delta: float = 0.2) -> np.ndarray:
    """Mask of rows to keep: among identical feature rows, drop the minority label unless it is a near tie.

    A group of identical rows whose mean label is within ``consensus_delta`` of 0.5 is kept whole;
    otherwise rows whose label differs from the group's majority are dropped. Unique rows are kept
    (the authors' version dropped them by mistake).
    """
    group = features.groupby(list(features.columns), sort=False).ngroup().to_numpy()
    sums, counts = np.bincount(group, labels), np.bincount(group)
    mean = (sums / counts)[group]
    return (np.abs(mean - 0.5) < consensus_delta) | (labels == np.round(mean))


def _download(path: Path) -> None:
    """ProPublica's CSV, checked against the MD5 of the file the results were made with; a failed or changed
    download leaves no file behind."""
    from torchvision.datasets.utils import download_url

    try:
        download_url(URL, str(path.parent), path.name, md5=MD5)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class COMPASDataModule(TabularDataModule):
    """COMPAS: predict whether COMPAS scored a defendant Medium/High risk, as the paper does.

    Reads ``<data_dir>/COMPAS/compas-scores-two-years.csv`` (downloaded from ProPublica's
    repository when ``download`` is true and it is missing). 11 features, binary target.

    Args:
        download: download the CSV when it is missing.
        **kwargs: :class:`TabularDataModule` arguments.
    """

    feature_names = FEATURES
    class_names = ("low risk", "medium/high risk")

    def __init__(self, download: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.download = download

    def load_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Preprocessed features (N, 11) and labels (N,), contradictory duplicates removed."""
        path = self.data_dir / FILE
        how = "It is ProPublica's compas-analysis CSV; it is downloaded when data.download=true."
        fetch = (lambda: _download(path)) if self.download else None
        require_files("COMPAS", self.data_dir, FILE.parent, [FILE.name], how, fetch)
        try:
            frame = pd.read_csv(path)
            features, labels = preprocess(frame)
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
            raise DataNotFoundError(f"cannot use {path}: {err}") from err
        keep = drop_conflicting(features, labels)
        return features.to_numpy()[keep], labels[keep]
