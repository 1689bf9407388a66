"""``senn-explore``: write a trained SENN's explorer page, one HTML file that opens offline.

senn-explore pretrained:mnist --output explorer.html
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from senn.cli import exit_on_user_errors


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, write the page, say where and how big it is."""
    parser = argparse.ArgumentParser(description="Write a SENN's explorer page: browse explanations, steer concepts.")
    parser.add_argument("ckpt_path", help="a senn-train checkpoint, or pretrained:<name>")
    parser.add_argument("--output", default="explorer.html", help="the page to write (default: explorer.html)")
    parser.add_argument("--examples", type=int, default=200, help="examples on the page (default 200)")
    parser.add_argument("--split", default="test", help="the split they come from (default: test)")
    parser.add_argument("--seed", type=int, default=0, help="which examples (a seeded random subset)")
    parser.add_argument("--data-dir", help="where the checkpoint's data lives now, if it moved")
    parser.add_argument("--feature-vis-steps", type=int, default=64, help="feature visualization (0: none)")
    args = parser.parse_args(argv)
    with exit_on_user_errors("senn-explore"):
        from senn.checkpoints import load_checkpoint  # imported here so that `--help` stays fast
        from senn.explain.inputs import recorded_data
        from senn.explore import write_explorer

        start = time.perf_counter()
        module = load_checkpoint(args.ckpt_path)
        datamodule = recorded_data(module, args.split, args.data_dir)
        path = write_explorer(args.output, module, datamodule, split=args.split, num_examples=args.examples,
                              seed=args.seed, feature_vis_steps=args.feature_vis_steps,
                              title=f"senn explorer: {args.ckpt_path}")  # fmt: skip
    size = Path(path).stat().st_size / 1e6
    print(f"wrote {path} ({size:.2f} MB, {time.perf_counter() - start:.1f} s): open it in a browser, no server needed")


if __name__ == "__main__":
    main()
