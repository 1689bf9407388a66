"""`senn-evaluate` as a user runs it: one-line errors (the end to end run and the installed script:
tests/evaluation/test_evaluate.py)."""

from __future__ import annotations

from tests.conftest import run_command


def test_a_missing_checkpoint_is_one_line_without_a_traceback(tmp_path, capsys):
    result = run_command(["senn-evaluate", f"ckpt_path={tmp_path / 'nope.ckpt'}", f"hydra.run.dir={tmp_path / 'eval'}"],
                         tmp_path, capsys)  # fmt: skip
    assert result.code == 1 and "Traceback" not in result.err
    assert f"senn-evaluate: no checkpoint at {tmp_path / 'nope.ckpt'}" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "eval").exists()  # nothing left behind
