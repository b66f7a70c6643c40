"""``make bench``: run every ``bench/bench_*.py`` module's ``main`` and record its results.

``python -m bench [--only NAME ...] [SIZE ...]``: sizes (integers) go to modules whose ``main``
takes ``sizes``; modules whose ``main`` parses its own arguments run with their defaults.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path


def modules() -> list[str]:
    return sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))


def run(name: str, sizes: list[int]) -> bool:
    module = importlib.import_module(f"bench.{name}")
    params = list(inspect.signature(module.main).parameters)
    t0 = time.perf_counter()
    print(f"== {name}", flush=True)
    saved, sys.argv = sys.argv, [f"bench/{name}.py"]  # modules that parse sys.argv see no options of ours
    try:
        if params and params[0] == "sizes":
            module.main(sizes or None)
        elif params and params[0] == "argv":
            module.main([])
        else:
            module.main()
    except SystemExit as exc:  # a module's own argument parser gave up
        if exc.code not in (0, None):
            print(f"== {name} FAILED (exit {exc.code}) after {time.perf_counter() - t0:.0f}s", flush=True)
            return False
    except Exception:
        traceback.print_exc()
        print(f"== {name} FAILED after {time.perf_counter() - t0:.0f}s", flush=True)
        return False
    finally:
        sys.argv = saved
    print(f"== {name} done in {time.perf_counter() - t0:.0f}s", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", default=[], help="module name, e.g. bench_rfm or rfm")
    parser.add_argument("sizes", nargs="*", type=int, help="data sizes for modules that take them")
    args = parser.parse_args(argv)
    wanted = {w if w.startswith("bench_") else f"bench_{w}" for w in args.only}
    chosen = [m for m in modules() if not wanted or m in wanted]
    if wanted - set(chosen):
        parser.error(f"no benchmark named {sorted(wanted - set(chosen))}; there are {modules()}")
    ok = [run(name, args.sizes) for name in chosen]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
