"""The ``cutslack`` command line.

    cutslack solve FILE --method M [--format F] [--time-limit S] [--seed N] [--option key=value ...]
    cutslack solve --generate "mdkp n=50 m=5 seed=1" --method M
    cutslack info
    cutslack bench ...          (suites, runs, reports; see ``cutslack bench --help``)

Exit codes: 0 success, 1 the solver found no feasible solution or failed, 2 bad input
(missing, unreadable or directory paths, an existing output, an unknown format, method or
option, malformed arguments), 3 an internal error (one line says where the full traceback
was written), 130 interrupted.  Every error is one line starting ``cutslack: error:``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import re
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np

from cutslack.errors import CutslackError, UsageError

__all__ = ["main", "build_parser", "read_problem", "generate_problem", "detect_format", "sniff_format",
           "check_input_file", "check_output_path", "run_guarded", "ERROR_PREFIX", "EXIT_OK", "EXIT_FAILED",
           "EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_INTERRUPTED"]

#: the one prefix of every error line the command line prints
ERROR_PREFIX = "cutslack: error: "
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: exit code when the reader of stdout went away (``| head``): 128 + SIGPIPE, as a shell reports it
EXIT_BROKEN_PIPE = 141

#: generator families for ``--generate``: name -> (dotted function, positional parameters)
GENERATORS = {
    "knapsack": ("cutslack.problems.knapsack:random_knapsack", ("n", "m")),
    "mdkp": ("cutslack.problems.knapsack:random_mdkp", ("n", "m")),
    "mis": ("cutslack.problems.mis:random_mis", ("n", "p")),
    "regular-mis": ("cutslack.problems.mis:random_regular_mis", ("n", "d")),
    "unitdisk-mis": ("cutslack.problems.mis:random_unit_disk_mis", ("n", "radius")),
    "qap": ("cutslack.problems.qap:random_qap", ("n",)),
    "tsp": ("cutslack.problems.tsp:random_tsp", ("n",)),
    "gap": ("cutslack.problems.generalized_assignment:random_gap", ("m", "n")),
    "setcover": ("cutslack.problems.set_cover:random_set_cover", ("m", "n", "density")),
}

FORMATS = ("tsplib", "qaplib", "mknap1", "mknap2", "dimacs", "dimacs-complement", "mps", "lp")


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
        if "=" not in item or not item.split("=", 1)[0].strip():
            raise UsageError(f"{what}: expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip().replace("-", "_")] = _parse_value(v.strip())
    return out


def _generator_keys(func) -> list[str]:
    return [name for name in inspect.signature(func).parameters if name != "rng"] + ["seed"]


def generate_problem(spec: str):
    """Return a generated instance from a spec such as ``"mdkp n=50 m=5 seed=1"``.

    Raises
    ------
    UsageError
        An empty spec, an unknown family, a word that is not ``key=value``, an unknown or
        missing key (the valid keys listed), or a value the generator refuses.
    """
    words = spec.split()
    if not words:
        raise UsageError("--generate: empty spec; expected e.g. \"mdkp n=50 m=5 seed=1\"")
    family = words[0].lower()
    if family not in GENERATORS:
        raise UsageError(f"--generate: unknown family {family!r}; expected one of {', '.join(GENERATORS)}")
    target, positional = GENERATORS[family]
    params = _key_values(words[1:], f"--generate {family}")
    mod, fn = target.split(":")
    func = getattr(importlib.import_module(mod), fn)
    keys = _generator_keys(func)
    unknown = [k for k in params if k not in keys]
    if unknown:
        raise UsageError(f"--generate {family}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(keys)}")
    seed = params.pop("seed", None)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise UsageError(f"--generate {family}: seed must be a non-negative integer, got {seed!r}")
    required = [name for name, par in inspect.signature(func).parameters.items()
                if par.default is par.empty and par.kind in (par.POSITIONAL_ONLY, par.POSITIONAL_OR_KEYWORD)]
    missing = [p for p in required if p not in params]
    if missing:
        raise UsageError(f"--generate {family}: missing parameter(s) {', '.join(missing)}; "
                         f"valid keys: {', '.join(keys)}")
    try:
        return func(**params, rng=seed)
    except CutslackError as exc:
        raise UsageError(f"--generate {family}: {exc}") from None
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        # the generators check their sizes with plain Python/NumPy; say which spec broke them
        raise UsageError(f"--generate {family}: bad parameter value ({exc}); valid keys: {', '.join(keys)}") from None


# signatures of the formats, tried on a file whose name does not tell its format
def _looks_tsplib(text: str) -> bool:
    keys = {line.split(":", 1)[0].strip().upper() for line in text.splitlines()[:40] if ":" in line}
    return "DIMENSION" in keys and ("TYPE" in keys or "EDGE_WEIGHT_TYPE" in keys)


def _looks_dimacs(text: str) -> bool:
    lines = [line.split() for line in text.splitlines() if line.strip()]
    heads = [w[0] for w in lines]
    return (sum(h == "p" for h in heads) == 1 and all(h in ("c", "p", "e", "n") for h in heads)
            and any(w[0] == "p" and len(w) >= 2 and w[1] in ("edge", "edges", "col") for w in lines))


def _looks_mknap2(text: str) -> bool:
    return (re.search(r"^\s*problem\s+\S+", text, re.IGNORECASE | re.MULTILINE) is not None
            and re.search(r"^\s*\+{3,}\s*$", text, re.MULTILINE) is not None)


def _numeric_tokens(text: str) -> list[float] | None:
    tokens = text.split()
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def _looks_mknap1(values: list[float]) -> bool:
    """True when the numbers are exactly K problems of ``n m opt``, n profits, m·n weights, m capacities."""
    if not values or values[0] != int(values[0]) or values[0] < 1:
        return False
    pos, count = 1, int(values[0])
    for _ in range(count):
        if pos + 2 >= len(values):
            return False
        n, m = values[pos], values[pos + 1]
        if n != int(n) or m != int(m) or n < 1 or m < 1:
            return False
        pos += 3 + int(n) + int(m) * int(n) + int(m)
    return pos == len(values)


def _looks_qaplib(values: list[float]) -> bool:
    """True when the numbers are ``n`` then two n×n matrices."""
    if not values or values[0] != int(values[0]) or values[0] < 1:
        return False
    return len(values) == 1 + 2 * int(values[0]) ** 2


_SUFFIX_FORMATS = {".tsp": "tsplib", ".atsp": "tsplib", ".dat": "qaplib", ".clq": "dimacs-complement",
                   ".col": "dimacs", ".dimacs": "dimacs", ".graph": "dimacs", ".mps": "mps", ".qps": "mps",
                   ".lp": "lp"}


def sniff_format(text: str) -> str | None:
    """Return the one format whose signature ``text`` matches, or None (none, or more than one)."""
    found = []
    if _looks_tsplib(text):
        found.append("tsplib")
    if _looks_dimacs(text):
        found.append("dimacs")
    if _looks_mknap2(text):
        found.append("mknap2")
    values = _numeric_tokens(text)
    if values is not None:
        if _looks_mknap1(values):
            found.append("mknap1")
        if _looks_qaplib(values):
            found.append("qaplib")
    return found[0] if len(found) == 1 else None


def detect_format(path: Path) -> str:
    """Return the library format of a file from its extension, else from its content.

    The content must match exactly one format's signature (TSPLIB ``KEY: value`` header,
    a DIMACS ``p edge`` graph, mknap2 ``problem`` blocks, or an all-number stream whose
    count is exactly that of an mknap1 collection or a QAPLIB instance); anything else is
    refused rather than handed to a reader that would guess.

    Raises
    ------
    UsageError
        "cannot tell the format of FILE; use --format one of ...".
    """
    path = Path(path)
    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if path.suffix.lower() == ".gz":  # only model files are read gzipped (HiGHS opens them itself)
        fmt = {".mps": "mps", ".qps": "mps", ".lp": "lp"}.get(Path(path.stem).suffix.lower())
    if fmt is None:
        with open(path, "rb") as handle:
            raw = handle.read(8_000_000)
        fmt = None if b"\0" in raw else sniff_format(raw.decode("utf-8", errors="replace"))
    if fmt is None:
        raise UsageError(f"cannot tell the format of {path}; use --format one of {', '.join(FORMATS)}")
    return fmt


def check_input_file(path, what: str = "file") -> Path:
    """Return ``Path(path)`` when it is a readable regular file; else raise :class:`UsageError` saying why."""
    p = Path(path)
    if not p.exists():
        parent = p.parent
        missing_parent = str(parent) not in ("", ".") and not parent.exists()
        hint = f" (the folder {parent} does not exist either)" if missing_parent else ""
        raise UsageError(f"no such {what}: {path}{hint}; check the path")
    if p.is_dir():
        raise UsageError(f"{path} is a directory; give the path of a {what} inside it")
    if not p.is_file():
        raise UsageError(f"{path} is not a regular file; give the path of a {what}")
    if not os.access(p, os.R_OK):
        raise UsageError(f"cannot read {path} (permission denied); fix its permissions or copy it")
    return p


def check_output_path(path, what: str, *, folder: bool = False) -> Path:
    """Return ``Path(path)`` for an output: its parent folder must exist; an existing ``folder``
    output must be a folder, an existing file output a file (it is then reused)."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if folder:
        if p.exists() and not p.is_dir():
            raise UsageError(f"{what} {path} exists and is not a folder; give a new or existing folder")
        return p
    if not parent.exists():
        raise UsageError(f"the folder of {what} {path} does not exist: {parent}; create it first")
    if not parent.is_dir():
        raise UsageError(f"the folder of {what} {path} is not a folder: {parent}")
    if p.is_dir():
        raise UsageError(f"{what} {path} is a directory; give a file path")
    return p


def read_problem(path: str, fmt: str | None = None, index: int | None = None, *, binary_expansion: bool = False):
    """Return the instance in a library file (``index`` picks one problem of a multi-problem file),
    with its known optimum attached when the file is shipped or listed in the benchmark library.
    MPS and LP files are read by :func:`cutslack.models.read_model` (``binary_expansion`` passed on)."""
    from cutslack.problems import library

    p = check_input_file(path, "file")
    fmt = fmt or detect_format(p)
    if fmt in ("mps", "lp"):  # the user's own binary model, read by HiGHS (cutslack.models)
        from cutslack.models import read_model

        if index not in (None, 0):
            raise UsageError(f"--index {index}: {path} holds one model")
        return read_model(p, binary_expansion=binary_expansion)
    readers = {
        "tsplib": library.read_tsplib,
        "qaplib": library.read_qaplib,
        "dimacs": library.read_dimacs,
        "dimacs-complement": lambda f: library.read_dimacs(f, complement=True),
        "mknap1": library.read_mknap1,
        "mknap2": library.read_mknap2,
    }
    if fmt not in readers:
        raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = readers[fmt](str(p))
    if isinstance(out, list):
        if not out:
            raise UsageError(f"{path} holds no problem")
        if index is None:
            if len(out) != 1:
                names = ", ".join(q.name for q in out[:8])
                raise UsageError(f"{path} holds {len(out)} problems ({names}{', ...' if len(out) > 8 else ''}); "
                                 f"pick one with --index (0-based)")
            index = 0
        if not 0 <= index < len(out):
            raise UsageError(f"--index {index} out of range: {path} holds {len(out)} problems (0..{len(out) - 1})")
        out = out[index]
    elif index not in (None, 0):
        raise UsageError(f"--index {index}: {path} holds one problem")
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

    from cutslack.api import check_call

    if (args.file is None) == (args.generate is None):
        raise UsageError("give either a FILE or --generate SPEC (not both)")
    if args.time_limit is not None and not (0 < args.time_limit < float("inf")):
        raise UsageError(f"--time-limit must be a positive number of seconds, got {args.time_limit}")
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.index is not None and args.generate:
        raise UsageError("--index picks a problem of a FILE; it does not go with --generate")
    options = _key_values(args.option or [], "--option")
    if args.generate is not None:
        problem = generate_problem(args.generate)
    else:
        problem = read_problem(args.file, args.format, args.index, binary_expansion=args.binary_expansion)
    try:
        check_call(problem, args.method, options, args.time_limit)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.quiet or args.json or not sys.stderr.isatty():
        res = cutslack.solve(problem, method=args.method, rng=args.seed, time_limit=args.time_limit, **options)
    else:
        from cutslack.progress import ProgressLine

        with ProgressLine(sys.stderr) as progress:
            res = cutslack.solve(problem, method=args.method, rng=args.seed, time_limit=args.time_limit,
                                 callback=progress, **options)
    known = getattr(problem, "known_optimum", None)
    if known is not None and res.info.get("known_optimum_violated"):
        print(f"cutslack: warning: the file's stated optimum {known.value:g} is beaten by a feasible solution of "
              f"{res.objective:g}: the stated value is wrong", file=sys.stderr)
    if args.json:
        payload = {"instance": getattr(problem, "name", ""), "family": getattr(problem, "family", ""),
                   "size": problem.size, "method": res.method, "status": res.status.value, "objective": res.objective,
                   "feasible": res.feasible, "bound": res.bound, "gap": res.gap, "known_optimum":
                   None if known is None else known.value, "n_vars": res.n_vars, "n_qubits": res.n_qubits,
                   "wall_time": res.wall_time, "x": _jsonable(res.x)}
        for key in ("subproblem", "sampler", "raw_feasible_fraction", "best_raw_objective", "best_repaired_objective",
                    "known_optimum_violated"):
            if key in res.info:
                payload[key] = _jsonable(res.info[key])
        if getattr(problem, "family", "") == "model" and res.x is not None:  # the file's own columns by name
            from cutslack.models import model_solution

            payload["model_solution"] = model_solution(problem, res.x)
        print(json.dumps(payload))
    else:
        print(problem.describe())
        print(res.summary())
        if known is not None and res.info.get("known_optimum_violated"):
            print(f"known optimum: {known.value:g} (stated, and beaten: see the warning)")
        elif known is not None:
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
    import cutslack

    parser = _Parser(prog="cutslack", description="Constrained optimization toolkit: solve library or "
                     "generated instances, inspect the installation, run benchmark suites.",
                     epilog="exit codes: 0 ok, 1 no feasible solution, 2 bad input, 3 internal error "
                            "(the traceback file is named), 130 interrupted")
    parser.add_argument("--version", action="version", version=f"cutslack {cutslack.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ps = sub.add_parser("solve", help="solve a library file or a generated instance",
                        description="Solve an instance read from FILE (format detected from the file, or --format) or "
                                    "generated from --generate SPEC, and print the re-scored result.")
    ps.add_argument("file", nargs="?", help="instance file (TSPLIB .tsp, QAPLIB .dat, OR-Library mknap, DIMACS) "
                    "or your own binary model (.mps, .lp, optionally .gz)")
    ps.add_argument("--generate", metavar="SPEC", help='generator spec, e.g. "mdkp n=50 m=5 seed=1"; families: '
                    + ", ".join(GENERATORS))
    ps.add_argument("--format", choices=FORMATS, help="file format (default: detected)")
    ps.add_argument("--index", type=int, help="which problem of a multi-problem file (0-based)")
    ps.add_argument("--binary-expansion", action="store_true",
                    help="MPS/LP files: write bounded general-integer columns with log2(u - l) + 1 bits each")
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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``cutslack: error:`` line (exit 2), like every other error."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{ERROR_PREFIX}{message} (see '{self.prog} --help')\n")


def _write_traceback(exc: BaseException) -> str:
    """Write the traceback of ``exc`` to a new file under the temp folder; return its path."""
    fd, path = tempfile.mkstemp(prefix="cutslack-traceback-", suffix=".txt")
    with os.fdopen(fd, "w") as handle:
        handle.write(f"cutslack {' '.join(sys.argv[1:])}\n")
        handle.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return path


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def run_guarded(handler, args, *, interrupted: str = "interrupted") -> int:
    """Run ``handler(args)`` and return its exit code, turning every exception into one line on stderr.

    Expected failures (:class:`~cutslack.errors.CutslackError`, an operating-system error on a
    named path) print ``cutslack: error: ...`` and give 2; Ctrl-C prints ``interrupted`` and
    gives 130; a closed stdout (``| head -c 1``) ends quietly with 141, as Unix tools do;
    anything else is a bug: one line names it and the file holding the full traceback, exit 3.
    """
    try:
        code = int(handler(args) or 0)
        sys.stdout.flush()  # a reader that left shows up here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _broken_pipe()
    except CutslackError as exc:
        print(f"{ERROR_PREFIX}{_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        if exc.filename is None:
            return _internal_error(exc)
        reason = exc.strerror or type(exc).__name__
        print(f"{ERROR_PREFIX}{exc.filename}: {reason.lower()}; check the path and its permissions", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{ERROR_PREFIX}{interrupted}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 -- the last line of defence: no traceback on the terminal
        return _internal_error(exc)


def _broken_pipe() -> int:
    # point stdout at /dev/null so that the interpreter's final flush does not fail again
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _internal_error(exc: BaseException) -> int:
    try:
        where = f"the full traceback is in {_write_traceback(exc)}"
    except OSError:
        where = "the traceback could not be written to the temp folder"
    print(f"{ERROR_PREFIX}internal error {type(exc).__name__}: {_one_line(exc)[:300]}; {where} "
          f"(please report it)", file=sys.stderr)
    return EXIT_INTERNAL


def main(argv=None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a malformed command line (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if not getattr(args, "handler", None):
        parser.print_usage(sys.stderr)
        print(f"{ERROR_PREFIX}give a command: solve, info or bench (see 'cutslack --help')", file=sys.stderr)
        return EXIT_BAD_INPUT
    return run_guarded(args.handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
