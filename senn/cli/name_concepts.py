"""``senn-name-concepts``: give a trained SENN's learned concepts names, stored in its checkpoint.

senn-name-concepts outputs/mnist/<run>/checkpoints/last.ckpt "loop" "stroke" "bar" "curve" "blank"
senn-name-concepts outputs/mnist/<run>/checkpoints/last.ckpt --from concept_names.json   # the explorer's export
"""

from __future__ import annotations

import argparse

from senn.checkpoints.naming import name_concepts, read_names
from senn.cli import exit_on_user_errors


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, write the names, say where."""
    parser = argparse.ArgumentParser(description="Name a SENN's concepts; explanations and reports then use the names.")
    parser.add_argument("ckpt_path", help="a senn-train checkpoint")
    parser.add_argument("names", nargs="*", help="one name per concept, in order (concept 1 first)")
    parser.add_argument("--from", dest="source", help="a JSON file of the names (senn-explore's export)")
    parser.add_argument("--output", help="write a copy here instead of updating the checkpoint in place")
    args = parser.parse_args(argv)
    if bool(args.names) == bool(args.source):
        parser.error("give the names, or --from a names file, not both")
    with exit_on_user_errors("senn-name-concepts"):
        names = read_names(args.source) if args.source else args.names
        path = name_concepts(args.ckpt_path, names, args.output)
    print(f"named {len(names)} concepts in {path}: {', '.join(names)}")


if __name__ == "__main__":
    main()
