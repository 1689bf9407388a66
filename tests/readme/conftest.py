"""The README's workspace, one per test module (each module runs the commands it checks)."""

from __future__ import annotations

import pytest

from tests.readme.workspace import Workspace, make_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A user's folder with generated data, where the README's commands run."""
    return make_workspace(tmp_path_factory.mktemp("readme"))
