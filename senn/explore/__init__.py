"""The explorer: an offline HTML page to browse a SENN's explanations, steer its concepts and name them."""

from senn.explore.data import explorer_data
from senn.explore.page import render, write_explorer

__all__ = ["explorer_data", "render", "write_explorer"]
