"""The README's Layout section is the reader's map of the package: it must name what is there, and only that."""

from __future__ import annotations

import re

from tests.conftest import REPO


def layout_entries() -> set[str]:
    """The ``senn/...`` paths the Layout section's block lists."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Layout") :]
    block = re.search(r"^```\n(.*?)^```", section, flags=re.M | re.S).group(1)
    return {line.split()[0].rstrip("/") for line in block.splitlines() if line.startswith("senn/")}


def test_the_layout_lists_every_package_and_top_level_module_of_senn():
    package = REPO / "senn"
    tree = {f"senn/{p.parent.name}" for p in package.glob("*/__init__.py")}
    tree |= {f"senn/{p.name}" for p in package.glob("*.py") if p.name != "__init__.py"}
    listed = layout_entries()
    assert listed == tree, f"missing from the README: {sorted(tree - listed)}; not in senn/: {sorted(listed - tree)}"
