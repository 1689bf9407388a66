"""Runs: a composed config checked, completed from the data and trained into a run folder; sweeps summarized."""

from senn.runs.sizes import check_compatible, fill_from_data
from senn.runs.train import train
from senn.runs.validation import ConfigError, validate_config

__all__ = ["ConfigError", "check_compatible", "fill_from_data", "train", "validate_config"]
