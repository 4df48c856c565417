"""``python -m matching``: solve a JSON instance, or benchmark on a generated one."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from matching.jsonio import InstanceError, parse_instance, result_to_json
from matching.solver import solve

EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 for a refused instance)."""
    parser = argparse.ArgumentParser(prog="python -m matching", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_solve = sub.add_parser("solve", help="solve INSTANCE.json ('-' for stdin) and print the result as JSON")
    p_solve.add_argument("instance")
    p_bench = sub.add_parser("bench", help="benchmark on a generated clustered instance; prints one JSON line")
    p_bench.add_argument("--requests", type=int, required=True)
    p_bench.add_argument("--volunteers", type=int, required=True)
    p_bench.add_argument("--seed", type=int, default=0)
    p_bench.add_argument("--no-full", action="store_true", help="skip the full-graph baseline")
    args = parser.parse_args(argv)
    if args.command == "bench":
        from matching.bench import run_bench

        line = run_bench(args.requests, args.volunteers, args.seed, full_baseline=not args.no_full)
        print(json.dumps(line, sort_keys=True))
        return 0 if line["checks_passed"] else 1
    try:
        if args.instance == "-":
            text = sys.stdin.read()
        else:
            with open(args.instance, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        print(f"error: cannot read {args.instance}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"error: {args.instance} is not valid JSON: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        requests, volunteers = parse_instance(data)
    except InstanceError as exc:
        print(f"error: invalid instance: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    json.dump(result_to_json(solve(requests, volunteers)), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0
