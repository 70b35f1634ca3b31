"""Run every benchmark and print one table: operation, size, figure, floor, ratio.

python -m bench            # full sizes (minutes)
python -m bench --quick    # small sizes (seconds), to check the benchmarks run
python -m bench dispatch   # only the named modules (server and pages need the server extra,
                           # postgres the postgres extra and PostgreSQL's binaries)
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time

from tabulate import tabulate

# One module per benchmark, each with ``run(quick) -> list[Row]``, in lifecycle order.
MODULES = (
    "startup",
    "dispatch",
    "engine",
    "wishes",
    "sizes",
    "voting",
    "presale",
    "postgres",
    "server",
    "pages",
)


def print_rows(rows) -> None:
    print(
        tabulate(
            [
                (
                    r.operation,
                    r.size,
                    r.figure,
                    r.floor,
                    "-" if r.ratio is None else f"{r.ratio:.2f}",
                )
                for r in rows
            ],
            headers=["operation", "size", "figure", "floor", "ratio"],
            tablefmt="github",
            disable_numparse=True,  # print ratios as formatted: 0.60, not 0.6
            colalign=("left", "left", "left", "left", "right"),
        )
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "modules",
        nargs="*",
        metavar="MODULE",
        help=f"benchmarks to run: {', '.join(MODULES)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(MODULES)}")
    rows = []
    for name in args.modules or MODULES:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        start = time.perf_counter()
        found = module.run(quick=args.quick)
        took = time.perf_counter() - start
        print(f"{name}: {len(found)} rows in {took:.1f} s", file=sys.stderr, flush=True)
        rows.extend(found)
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, quick={args.quick}"
    )
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
