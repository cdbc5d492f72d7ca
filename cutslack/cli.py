"""The ``cutslack`` command line.

    cutslack solve FILE --method M [--format F] [--time-limit S] [--seed N] [--option key=value ...]
    cutslack solve --generate "mdkp n=50 m=5 seed=1" --method M
    cutslack info
    cutslack bench ...          (suites, runs, reports; see ``cutslack bench --help``)

Exit codes: 0 success, 1 the solver found no feasible solution or failed, 2 bad input
(unreadable file, unknown method or option, malformed arguments).
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser", "read_problem", "generate_problem", "detect_format"]

#: generator families for ``--generate``: name -> (dotted function, positional parameters)
GENERATORS = {
    "knapsack": ("cutslack.problems.knapsack:random_knapsack", ("n", "m")),
    "mdkp": ("cutslack.problems.knapsack:random_mdkp", ("n", "m")),
    "mis": ("cutslack.problems.mis:random_mis", ("n", "p")),
    "regular-mis": ("cutslack.problems.mis:random_regular_mis", ("n", "d")),
    "unitdisk-mis": ("cutslack.problems.mis:random_unit_disk_mis", ("n", "radius")),
    "qap": ("cutslack.problems.qap:random_qap", ("n",)),
    "tsp": ("cutslack.problems.tsp:random_tsp", ("n",)),
}

FORMATS = ("tsplib", "qaplib", "mknap1", "mknap2", "dimacs", "dimacs-complement")


def _parse_value(text: str):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    return text


def _key_values(items, what: str) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{what}: expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip().replace("-", "_")] = _parse_value(v.strip())
    return out


def generate_problem(spec: str):
    """Return a generated instance from a spec such as ``"mdkp n=50 m=5 seed=1"``."""
    words = spec.split()
    if not words:
        raise ValueError("--generate: empty spec; expected e.g. \"mdkp n=50 m=5 seed=1\"")
    family = words[0].lower()
    if family not in GENERATORS:
        raise ValueError(f"--generate: unknown family {family!r}; expected one of {', '.join(GENERATORS)}")
    target, positional = GENERATORS[family]
    params = _key_values(words[1:], "--generate")
    seed = params.pop("seed", None)
    mod, fn = target.split(":")
    func = getattr(importlib.import_module(mod), fn)
    missing = [p for p in positional if p not in params and p != "m"]
    if missing:
        raise ValueError(f"--generate {family}: missing parameter(s) {', '.join(missing)}")
    try:
        return func(**params, rng=seed)
    except TypeError as exc:
        raise ValueError(f"--generate {family}: {exc}") from None


def detect_format(path: Path) -> str:
    """Return the library format of a file from its extension and, for ``.txt``, its first lines."""
    suffix = path.suffix.lower()
    if suffix in (".tsp", ".atsp"):
        return "tsplib"
    if suffix == ".dat":
        return "qaplib"
    if suffix == ".clq":
        return "dimacs-complement"
    if suffix in (".col", ".dimacs", ".graph"):
        return "dimacs"
    head = path.read_text(errors="replace")[:4000]
    if "NAME" in head and ("DIMENSION" in head or "TYPE" in head):
        return "tsplib"
    if any(line.startswith("p ") for line in head.splitlines()):
        return "dimacs"
    if "+++" in head or "problem" in head.lower():
        return "mknap2"
    return "mknap1"


def read_problem(path: str, fmt: str | None = None, index: int | None = None):
    """Return the instance in a library file (``index`` picks one problem of a multi-problem file),
    with its known optimum attached when the file is shipped or listed in the benchmark library."""
    from cutslack.problems import library

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {path}")
    fmt = fmt or detect_format(p)
    readers = {
        "tsplib": library.read_tsplib,
        "qaplib": library.read_qaplib,
        "dimacs": library.read_dimacs,
        "dimacs-complement": lambda f: library.read_dimacs(f, complement=True),
        "mknap1": library.read_mknap1,
        "mknap2": library.read_mknap2,
    }
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = readers[fmt](str(p))
    if isinstance(out, list):
        if index is None:
            if len(out) != 1:
                names = ", ".join(q.name for q in out[:8])
                raise ValueError(f"{path} holds {len(out)} problems ({names}{', ...' if len(out) > 8 else ''}); "
                                 f"pick one with --index (0-based)")
            index = 0
        if not 0 <= index < len(out):
            raise ValueError(f"--index {index} out of range: {path} holds {len(out)} problems")
        out = out[index]
    return library.attach_known_optimum(out, p, complement=fmt != "dimacs")


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _cmd_solve(args) -> int:
    import cutslack

    if bool(args.file) == bool(args.generate):
        raise ValueError("give either a FILE or --generate SPEC (not both)")
    problem = generate_problem(args.generate) if args.generate else read_problem(args.file, args.format, args.index)
    options = _key_values(args.option or [], "--option")
    if args.quiet or args.json or not sys.stderr.isatty():
        res = cutslack.solve(problem, method=args.method, rng=args.seed, time_limit=args.time_limit, **options)
    else:
        from cutslack.progress import ProgressLine

        with ProgressLine(sys.stderr) as progress:
            res = cutslack.solve(problem, method=args.method, rng=args.seed, time_limit=args.time_limit,
                                 callback=progress, **options)
    known = getattr(problem, "known_optimum", None)
    if args.json:
        payload = {"instance": getattr(problem, "name", ""), "family": getattr(problem, "family", ""),
                   "size": problem.size, "method": res.method, "status": res.status.value, "objective": res.objective,
                   "feasible": res.feasible, "bound": res.bound, "gap": res.gap, "known_optimum":
                   None if known is None else known.value, "n_vars": res.n_vars, "n_qubits": res.n_qubits,
                   "wall_time": res.wall_time, "x": _jsonable(res.x)}
        for key in ("subproblem", "sampler", "raw_feasible_fraction", "best_raw_objective", "best_repaired_objective"):
            if key in res.info:
                payload[key] = _jsonable(res.info[key])
        print(json.dumps(payload))
    else:
        print(problem.describe())
        print(res.summary())
        if known is not None:
            print(f"known optimum: {known.value:g} ({'proven' if known.proven else 'best known'})")
        x = np.asarray(res.x) if res.x is not None else None
        if x is not None:
            shown = " ".join(map(str, x[:40].tolist())) + (" ..." if x.size > 40 else "")
            print(f"solution: {shown}")
    return 0 if res.feasible else 1


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def _cmd_info(args) -> int:
    import cutslack
    from cutslack.gpu.backend import cupy_available

    rows = [("cutslack", cutslack.__version__), ("python", platform.python_version())]
    for dist in ("numpy", "scipy", "networkx", "numba", "cvxpy", "pyomo", "highspy"):
        rows.append((dist, _version(dist) or "missing"))
    extras = {"quantum": ("qiskit", "qiskit-aer"), "ml": ("torch",), "gpu": ("cupy-cuda12x",), "dist": ("dask", "distributed")}
    info = {"versions": dict(rows), "extras": {}, "gpu": cupy_available(), "methods": cutslack.available_methods()}
    for extra, dists in extras.items():
        vers = {d: _version(d) for d in dists}
        info["extras"][extra] = vers
    if args.json:
        print(json.dumps(info))
        return 0
    print("  ".join(f"{k} {v}" for k, v in rows))
    for extra, vers in info["extras"].items():
        state = "yes" if all(vers.values()) else "no "
        detail = ", ".join(f"{d} {v or 'missing'}" for d, v in vers.items())
        print(f"extra {extra:<8} {state}  {detail}")
    print(f"GPU backend (CuPy + device): {'available' if info['gpu'] else 'not available (NumPy twins in use)'}")
    methods = info["methods"]
    print(f"methods ({len(methods)}): " + ", ".join(methods))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``cutslack`` command."""
    parser = argparse.ArgumentParser(prog="cutslack", description="Constrained optimization toolkit: solve library or "
                                     "generated instances, inspect the installation, run benchmark suites.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ps = sub.add_parser("solve", help="solve a library file or a generated instance",
                        description="Solve an instance read from FILE (format detected from the file, or --format) or "
                                    "generated from --generate SPEC, and print the re-scored result.")
    ps.add_argument("file", nargs="?", help="instance file (TSPLIB .tsp, QAPLIB .dat, OR-Library mknap, DIMACS)")
    ps.add_argument("--generate", metavar="SPEC", help='generator spec, e.g. "mdkp n=50 m=5 seed=1"; families: '
                    + ", ".join(GENERATORS))
    ps.add_argument("--format", choices=FORMATS, help="file format (default: detected)")
    ps.add_argument("--index", type=int, help="which problem of a multi-problem file (0-based)")
    ps.add_argument("--method", "-m", default="milp", help="solver method (see `cutslack info`); default milp")
    ps.add_argument("--time-limit", "-t", type=float, help="seconds")
    ps.add_argument("--seed", type=int, help="random seed")
    ps.add_argument("--option", "-o", action="append", metavar="KEY=VALUE", help="method option (repeatable)")
    ps.add_argument("--json", action="store_true", help="print one JSON object")
    ps.add_argument("--quiet", "-q", action="store_true",
                    help="no progress line (shown on a terminal: elapsed, incumbent, bound, gap)")
    ps.set_defaults(handler=_cmd_solve)

    pi = sub.add_parser("info", help="versions, extras, GPU backend and methods",
                        description="Print versions, which optional extras and backends are available, and the methods.")
    pi.add_argument("--json", action="store_true", help="print one JSON object")
    pi.set_defaults(handler=_cmd_info)

    try:
        bench_cli = importlib.import_module("cutslack.bench.cli")
    except ImportError:
        bench_cli = None
    if bench_cli is not None and hasattr(bench_cli, "add_bench_parser"):
        bench_cli.add_bench_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; return the exit code."""
    from cutslack.errors import CutslackError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except (CutslackError, ValueError, TypeError, FileNotFoundError) as exc:
        print(f"cutslack: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
