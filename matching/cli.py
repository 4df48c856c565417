"""``python -m matching``: solve or plan rounds from a JSON instance, or benchmark on generated ones."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from matching.jsonio import InstanceError, parse_instance, result_to_json
from matching.model import SolveOptions
from matching.solver import solve

EXIT_BAD_INPUT = 2


def _positive(text: str) -> float:
    x = float(text)
    if not (x > 0 and math.isfinite(x)):  # "inf" would search for ever (and the routing search cannot take it)
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return x


WORKERS_HELP = (
    "processes searching a large day's sectors, then groups of its rounds, at once (default: the machine's cores)"
)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _workers(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"must be a whole number of processes from 1 to 64, got {text}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m matching", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_solve = sub.add_parser("solve", help="match INSTANCE.json ('-' for stdin) and print the result as JSON")
    p_solve.add_argument("instance")
    p_solve.add_argument("--time-limit", type=_positive, default=None, help="seconds; best answer so far + bound")
    p_rounds = sub.add_parser("rounds", help="plan delivery rounds for INSTANCE.json ('-' for stdin)")
    p_rounds.add_argument("instance")
    p_rounds.add_argument("--time-limit", type=_positive, default=10.0, help="seconds of local search (default 10)")
    p_rounds.add_argument("--workers", type=_workers, default=_cores(), help=WORKERS_HELP)
    p_bench = sub.add_parser("bench", help="benchmark matching on a generated instance; progress on stderr")
    p_bench.add_argument("--requests", type=int, required=True)
    p_bench.add_argument("--volunteers", type=int, required=True)
    p_bench.add_argument("--seed", type=int, default=0)
    p_bench.add_argument("--time-limit", type=_positive, default=None)
    p_bench.add_argument("--no-full", action="store_true", help="skip the full-graph baseline")
    p_bench.add_argument("--no-greedy", action="store_true", help="skip the greedy baseline (minutes at 100k)")
    p_br = sub.add_parser("bench-rounds", help="benchmark rounds against nearest neighbour + 2-opt")
    p_br.add_argument("--stops", type=int, required=True)
    p_br.add_argument("--vehicles", type=int, required=True)
    p_br.add_argument("--time-limit", type=_positive, default=10.0)
    p_br.add_argument("--seed", type=int, default=0)
    p_br.add_argument("--workers", type=_workers, default=_cores(), help=WORKERS_HELP)
    return parser


def _read_json(path: str) -> tuple[Any, str | None]:
    """The decoded document, or None and the message to print."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        return None, f"error: cannot read {path}: {exc.strerror}"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"error: {path} is not valid JSON: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 for a refused instance)."""
    args = _parser().parse_args(argv)
    if args.command == "bench":
        from matching.bench import run_bench

        line = run_bench(
            args.requests,
            args.volunteers,
            args.seed,
            full_baseline=not args.no_full,
            time_limit_s=args.time_limit,
            greedy_baseline=not args.no_greedy,
        )
        print(json.dumps(line, sort_keys=True))
        return 0 if line["checks_passed"] else 1
    if args.command == "bench-rounds":
        from matching.rounds_bench import run_rounds_bench

        line = run_rounds_bench(args.stops, args.vehicles, args.time_limit, args.seed, args.workers)
        print(json.dumps(line, sort_keys=True))
        return 0
    data, error = _read_json(args.instance)
    if error is not None:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "rounds":
        from matching.rounds import plan_rounds, result_json
        from matching.rounds_model import RoundsInstanceError, parse_rounds

        try:
            inst = parse_rounds(data)
        except RoundsInstanceError as exc:
            print(f"error: invalid rounds instance: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        out: dict[str, Any] = result_json(plan_rounds(inst, args.time_limit, workers=args.workers))
    else:
        try:
            requests, volunteers = parse_instance(data)
        except InstanceError as exc:
            print(f"error: invalid instance: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        out = result_to_json(solve(requests, volunteers, SolveOptions(time_limit_s=args.time_limit)))
    # json.dumps in one shot uses the C encoder; json.dump with an indent is pure Python (8 s at 100k).
    sys.stdout.write(json.dumps(out))
    sys.stdout.write("\n")
    return 0
