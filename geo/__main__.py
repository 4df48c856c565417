"""Command line: ``python -m geo {make-onspd,import-onspd,lookup,bench}``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .boundaries import Boundaries, find_default_boundary_file
from .postcodes import GeoError

_BOUNDARIES_HELP = (
    "authority boundary file (GeoJSON, Shapefile or GeoPackage); default: $CAN_GEO_BOUNDARIES, "
    "else data/london_boroughs.geojson or ../shared/data/london_boroughs.geojson under the working directory"
)


def _boundaries(path: Path | None) -> Boundaries:
    return Boundaries.from_file(path if path is not None else find_default_boundary_file())


def _codes(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("make-onspd", help="write an ONSPD-format CSV of random postcodes inside real boundaries")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--per-borough", type=int, required=True, help="live located postcodes per authority")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--boroughs", help="comma-separated GSS codes (default: every authority in the file)")
    gen.add_argument("--boundaries", type=Path, help=_BOUNDARIES_HELP)

    imp = sub.add_parser("import-onspd", help="index an ONSPD CSV for offline lookups")
    imp.add_argument("csv", type=Path)
    imp.add_argument("--out", type=Path, required=True, help="index file to write (.npz)")
    imp.add_argument("--authorities", help="comma-separated GSS codes to keep (default: all)")

    look = sub.add_parser("lookup", help="look a postcode up in an index")
    look.add_argument("index", type=Path)
    look.add_argument("postcode")

    bench = sub.add_parser("bench", help="benchmark; prints one JSON line")
    bench.add_argument("--points", type=int, default=10_000)
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--onspd-rows", type=int, default=20_000, help="size of the generated ONSPD file (0: skip)")
    bench.add_argument("--no-layers", action="store_true", help="skip the per-layer timings")
    bench.add_argument("--boundaries", type=Path, help=_BOUNDARIES_HELP)
    bench.add_argument("--leaflet-dir", type=Path, default=Path("node_modules/leaflet/dist"))

    args = parser.parse_args(argv)
    try:
        if args.command == "make-onspd":
            rows = _boundaries_rows(args)
            print(json.dumps({"rows": rows, "out": str(args.out)}))
        elif args.command == "import-onspd":
            from .directory import import_onspd

            report = import_onspd(args.csv, args.out, authorities=_codes(args.authorities))
            print(json.dumps(dataclasses.asdict(report)))
        elif args.command == "lookup":
            from .directory import PostcodeDirectory

            print(json.dumps(dataclasses.asdict(PostcodeDirectory.load(args.index).geocode(args.postcode))))
        else:
            from .bench import run

            result = run(
                args.points,
                boundaries=_boundaries(args.boundaries),
                leaflet_dir=args.leaflet_dir,
                seed=args.seed,
                onspd_rows=args.onspd_rows,
                all_layers=not args.no_layers,
            )
            print(json.dumps(result))
    except (GeoError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _boundaries_rows(args: argparse.Namespace) -> int:
    from .onspd_gen import make_onspd

    return make_onspd(
        _boundaries(args.boundaries),
        args.out,
        per_borough=args.per_borough,
        seed=args.seed,
        codes=_codes(args.boroughs),
    )


if __name__ == "__main__":
    sys.exit(main())
