"""``senn-name-concepts``: give a trained SENN's learned concepts names, stored in its checkpoint.

senn-name-concepts outputs/mnist/<run>/checkpoints/last.ckpt "loop" "stroke" "bar" "curve" "blank"
"""

from __future__ import annotations

import argparse

from senn.checkpoints.naming import name_concepts
from senn.cli import exit_on_user_errors


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, write the names, say where."""
    parser = argparse.ArgumentParser(description="Name a SENN's concepts; explanations and reports then use the names.")
    parser.add_argument("ckpt_path", help="a senn-train checkpoint")
    parser.add_argument("names", nargs="+", help="one name per concept, in order (concept 1 first)")
    parser.add_argument("--output", help="write a copy here instead of updating the checkpoint in place")
    args = parser.parse_args(argv)
    with exit_on_user_errors("senn-name-concepts"):
        path = name_concepts(args.ckpt_path, args.names, args.output)
    print(f"named {len(args.names)} concepts in {path}: {', '.join(args.names)}")


if __name__ == "__main__":
    main()
