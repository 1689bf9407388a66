"""The explorer page: one self-contained HTML file (data, style and script inlined) that opens from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from senn.data.base import SplitDataModule
from senn.explore.data import explorer_data

ASSETS = Path(__file__).resolve().parent


def render(data: dict[str, Any]) -> str:
    """The page for ``data`` (:func:`~senn.explore.data.explorer_data`'s): the data as HTML-safe JSON, the
    package's ``explorer.css`` and ``explorer.js`` inlined."""
    environment = Environment(autoescape=True)
    environment.policies["json.dumps_kwargs"] = {"sort_keys": False}  # a table's columns in the file's order
    template = environment.from_string((ASSETS / "explorer.html").read_text(encoding="utf-8"))
    style, script = ((ASSETS / name).read_text(encoding="utf-8") for name in ("explorer.css", "explorer.js"))
    return template.render(title=data["title"], data=data, style=Markup(style), script=Markup(script))


def write_explorer(path: str | Path, module: Any, datamodule: SplitDataModule, **options: Any) -> Path:
    """Write the explorer page of ``module`` on ``datamodule`` to ``path`` (``options``: those of
    :func:`~senn.explore.data.explorer_data`, e.g. ``split``, ``num_examples``, ``title``); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(explorer_data(module, datamodule, **options)), encoding="utf-8")
    return path
