"""Benchmark suites: TOML files naming instance sources, solver configurations, seeds and
time limits, checked in full before any run starts.

A suite file (parsed with the standard :mod:`tomllib`)::

    [suite]
    name = "quick"
    description = "what it shows"
    seeds = [0, 1, 2]          # solver seeds: one run per seed (repetitions)
    time_limit = 5.0           # seconds per run, passed to the solver
    hard_timeout = 30.0        # optional: seconds after which the executor kills a run
    imports = []               # optional: modules (dotted names or .py files next to the
                               # suite) that register extra solvers in every worker

    [[instances]]              # a generator with a parameter grid
    generator = "random_knapsack"
    params = { n = [20, 40], kind = ["uncorrelated", "strongly"] }   # lists expand
    seeds = [0, 1]             # instance seeds: one instance per grid point and seed

    [[instances]]              # a library set: family and fnmatch patterns over MANIFEST ids
    library = "qap"
    names = ["nug1*", "chr12a"]
    max_n = 20                 # optional size filter

    [[solvers]]
    label = "milp"             # optional, defaults to the method name; unique in the suite
    method = "milp"
    options = { }              # method options, checked against the registered method
    families = ["knapsack"]    # optional: only these instance families
    required = true            # false: skipped with a note when the method is not installed
    time_limit = 1.0           # optional: seconds per run of this solver (default: the suite's)

A solver runs on every instance whose problem type its method accepts (and whose family
is listed when ``families`` is given).  Every mistake — malformed TOML, an unknown
generator, parameter, method or option, a missing benchmark folder, no instance matching
a pattern — raises :class:`SuiteError` naming the file and the place in it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import importlib
import importlib.util
import inspect
import itertools
import json
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cutslack.errors import CutslackError, ParseError

__all__ = ["Suite", "InstanceSpec", "SolverConfig", "RunTask", "SuiteError", "load_suite", "shipped_suites",
           "suite_path", "GENERATORS", "instance_hash", "import_extra_modules"]

#: generator name -> (module attribute in cutslack.problems, family label stored with each run)
GENERATORS = {
    "random_knapsack": "knapsack",
    "random_mdkp": "mdkp",
    "random_mis": "mis",
    "random_regular_mis": "mis",
    "random_unit_disk_mis": "mis",
    "random_qap": "qap",
    "random_tsp": "tsp",
    "random_elliptic_control": "pde",
    "random_robust_knapsack": "robust",
    "random_capital_budgeting": "robust",
}

SUITES_DIR = Path(__file__).resolve().parent / "suites"

_SUITE_KEYS = {"name", "description", "seeds", "time_limit", "hard_timeout", "imports"}
_INSTANCE_KEYS = {"generator", "params", "seeds", "library", "names", "max_n", "min_n", "benchmark_dir"}
_SOLVER_KEYS = {"label", "method", "options", "families", "required", "time_limit"}


class SuiteError(ParseError):
    """A suite file is malformed or names something that does not exist (file and place in the message)."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, place: str | None = None):
        self.place = place
        super().__init__(f"{place}: {message}" if place else message, file=file, line=line)


@dataclass(frozen=True)
class InstanceSpec:
    """One instance of a suite: its id, family, where it comes from and the problem itself."""

    instance_id: str
    family: str
    source: str
    problem: object = field(repr=False, compare=False)
    instance_hash: str = ""


@dataclass(frozen=True)
class SolverConfig:
    """One solver configuration of a suite: a label, a method and its options."""

    label: str
    method: str
    options: dict
    families: tuple | None = None
    #: seconds per run for this solver (None: the suite's ``time_limit``)
    time_limit: float | None = None

    def options_json(self) -> str:
        return json.dumps(self.options, sort_keys=True, default=str)


@dataclass(frozen=True)
class RunTask:
    """One run to execute: an instance, a solver configuration, a seed and limits.

    ``key`` identifies the run in the store (suite, instance, label, options, seed, time limit),
    so a rerun of the same suite finds what is already done.
    """

    suite: str
    instance: InstanceSpec
    solver: SolverConfig
    seed: int
    time_limit: float | None
    hard_timeout: float
    imports: tuple = ()

    @property
    def key(self) -> str:
        text = json.dumps([self.suite, self.instance.instance_id, self.instance.instance_hash, self.solver.label,
                           self.solver.method, self.solver.options_json(), self.seed, self.time_limit])
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Suite:
    """A parsed, validated suite: its instances, solver configurations, seeds and limits."""

    name: str
    description: str
    path: Path | None
    seeds: list
    time_limit: float | None
    hard_timeout: float
    instances: list
    solvers: list
    imports: tuple = ()
    skipped_solvers: list = field(default_factory=list)

    def tasks(self) -> list[RunTask]:
        """Return every run of the suite: instances × applicable solvers × seeds, in a stable order."""
        out = []
        for inst in self.instances:
            for cfg in self.solvers:
                if not _applies(cfg, inst):
                    continue
                for seed in self.seeds:
                    limit = self.time_limit if cfg.time_limit is None else cfg.time_limit
                    out.append(RunTask(self.name, inst, cfg, int(seed), limit, self.hard_timeout, self.imports))
        return out


def _applies(cfg: SolverConfig, inst: InstanceSpec) -> bool:
    import cutslack

    if cfg.families is not None and inst.family not in cfg.families:
        return False
    return isinstance(inst.problem, cutslack.SOLVERS[cfg.method].accepts)


def instance_hash(problem) -> str:
    """Return a stable sha256 (hex, 16 chars) of an instance's data (arrays and scalars, not its name)."""
    h = hashlib.sha256(type(problem).__name__.encode())
    for f in dataclasses.fields(problem):
        if f.name in ("name", "known_optimum", "meta"):
            continue
        value = getattr(problem, f.name)
        h.update(f.name.encode())
        if isinstance(value, np.ndarray):
            arr = np.ascontiguousarray(value)
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.tobytes())
        elif value is None or isinstance(value, (str, int, float, bool, tuple, list)):
            h.update(repr(value).encode())
    return h.hexdigest()[:16]


def shipped_suites() -> dict[str, Path]:
    """Return the suites shipped with cutslack, name -> path."""
    return {p.stem: p for p in sorted(SUITES_DIR.glob("*.toml"))}


def suite_path(name_or_path) -> Path:
    """Return the file of a shipped suite name (``"quick"``) or of a path to a TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise SuiteError("no such suite file", file=str(p))
        return p
    shipped = shipped_suites()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise SuiteError(f"no suite file and no shipped suite named {str(name_or_path)!r}; shipped suites: "
                     f"{', '.join(shipped)}", file=str(name_or_path))


def import_extra_modules(imports, base: Path | None = None) -> None:
    """Import the modules a suite names (dotted names, or ``.py`` files relative to ``base``)."""
    for entry in imports:
        if entry.endswith(".py"):
            path = Path(entry)
            if not path.is_absolute() and base is not None:
                path = base / path
            name = f"cutslack_suite_ext_{path.stem}"
            if name in sys.modules:
                continue
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(entry)


def load_suite(name_or_path, *, benchmark_dir=None, seeds=None, time_limit=None) -> Suite:
    """Return the validated :class:`Suite` of a TOML file or shipped suite name.

    Instances are built (generated or read) here, once, so that every error shows before
    any run starts; ``benchmark_dir`` overrides where library sets are looked up, ``seeds``
    and ``time_limit`` override the suite's own.

    Raises
    ------
    SuiteError
        Naming the file and the place (``solvers[2].method``, ``instances[0].params.n``...).
    """
    path = suite_path(name_or_path)
    file = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise SuiteError(f"malformed TOML: {exc}", file=file, line=int(m.group(1)) if m else None) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read the suite: {exc}", file=file) from None

    head = data.get("suite", {})
    _check_keys(head, _SUITE_KEYS, "suite", file)
    _check_keys(data, {"suite", "instances", "solvers"}, "top level", file)
    name = str(head.get("name", path.stem))
    run_seeds = list(seeds) if seeds is not None else head.get("seeds", [0])
    if not isinstance(run_seeds, list) or not run_seeds or not all(isinstance(s, int) for s in run_seeds):
        raise SuiteError("must be a non-empty list of integers", file=file, place="suite.seeds")
    limit = time_limit if time_limit is not None else head.get("time_limit")
    if limit is not None and (not isinstance(limit, (int, float)) or limit <= 0):
        raise SuiteError(f"must be a positive number of seconds, got {limit!r}", file=file, place="suite.time_limit")
    hard = head.get("hard_timeout", 3.0 * limit + 10.0 if limit else 600.0)
    if not isinstance(hard, (int, float)) or hard <= 0:
        raise SuiteError(f"must be a positive number of seconds, got {hard!r}", file=file, place="suite.hard_timeout")
    imports = head.get("imports", [])
    if not isinstance(imports, list) or not all(isinstance(s, str) for s in imports):
        raise SuiteError("must be a list of module names or .py files", file=file, place="suite.imports")
    try:
        import_extra_modules(imports, path.parent)
    except Exception as exc:  # noqa: BLE001 - any import failure is a suite error
        raise SuiteError(f"cannot import: {type(exc).__name__}: {exc}", file=file, place="suite.imports") from None
    imports = tuple(str(path.parent / s) if s.endswith(".py") and not Path(s).is_absolute() else s
                    for s in imports)

    solvers, skipped = _parse_solvers(data.get("solvers"), file)
    bdir = Path(benchmark_dir) if benchmark_dir is not None else None
    instances = _parse_instances(data.get("instances"), file, bdir, path.parent)
    ids = [i.instance_id for i in instances]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SuiteError(f"instance ids appear twice: {', '.join(dupes[:5])}", file=file, place="instances")
    suite = Suite(name=name, description=str(head.get("description", "")), path=path, seeds=run_seeds,
                  time_limit=None if limit is None else float(limit), hard_timeout=float(hard),
                  instances=instances, solvers=solvers, imports=imports, skipped_solvers=skipped)
    for i, cfg in enumerate(solvers):
        if not any(_applies(cfg, inst) for inst in instances):
            raise SuiteError(f"method {cfg.method!r} applies to no instance of the suite", file=file,
                             place=f"solvers[{i}] ({cfg.label})")
    return suite


def _check_keys(table, allowed, place, file):
    if not isinstance(table, dict):
        raise SuiteError("must be a table", file=file, place=place)
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SuiteError(f"unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(allowed))}", file=file,
                         place=place)


def _parse_solvers(entries, file) -> tuple[list, list]:
    import cutslack

    if not isinstance(entries, list) or not entries:
        raise SuiteError("a suite needs at least one [[solvers]] entry", file=file, place="solvers")
    methods = cutslack.available_methods()
    solvers, skipped, labels = [], [], set()
    for i, entry in enumerate(entries):
        place = f"solvers[{i}]"
        _check_keys(entry, _SOLVER_KEYS, place, file)
        method = entry.get("method")
        if not isinstance(method, str):
            raise SuiteError("needs a method name", file=file, place=f"{place}.method")
        method = method.lower()
        label = str(entry.get("label", method))
        if label in labels:
            raise SuiteError(f"label {label!r} is used twice", file=file, place=f"{place}.label")
        labels.add(label)
        if method not in methods:
            if entry.get("required", True) is False:
                skipped.append(f"{label} (method {method!r} is not installed)")
                continue
            raise SuiteError(f"unknown method {method!r}; valid methods: {', '.join(methods)}", file=file,
                             place=f"{place}.method")
        options = entry.get("options", {})
        _check_keys(options, set(options), f"{place}.options", file)
        allowed = cutslack.SOLVERS[method].options
        if "*" not in allowed:
            for key in options:
                if key not in allowed or key in ("rng", "time_limit", "callback"):
                    valid = sorted(allowed - {"rng", "time_limit", "callback"})
                    raise SuiteError(f"method {method!r} has no option {key!r}; its options are: "
                                     f"{', '.join(valid) or '(none)'}", file=file, place=f"{place}.options.{key}")
        families = entry.get("families")
        if families is not None and (not isinstance(families, list) or not all(isinstance(f, str) for f in families)):
            raise SuiteError("must be a list of family names", file=file, place=f"{place}.families")
        limit = entry.get("time_limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0):
            raise SuiteError(f"must be a positive number of seconds, got {limit!r}", file=file,
                             place=f"{place}.time_limit")
        solvers.append(SolverConfig(label, method, dict(options), None if families is None else tuple(families),
                                    None if limit is None else float(limit)))
    if not solvers:
        raise SuiteError("no solver of the suite is installed: " + "; ".join(skipped), file=file, place="solvers")
    return solvers, skipped


def _parse_instances(entries, file, benchmark_dir, suite_dir) -> list[InstanceSpec]:
    if not isinstance(entries, list) or not entries:
        raise SuiteError("a suite needs at least one [[instances]] entry", file=file, place="instances")
    out = []
    for i, entry in enumerate(entries):
        place = f"instances[{i}]"
        _check_keys(entry, _INSTANCE_KEYS, place, file)
        if ("generator" in entry) == ("library" in entry):
            raise SuiteError("needs exactly one of 'generator' or 'library'", file=file, place=place)
        if "generator" in entry:
            out.extend(_generated(entry, place, file))
        else:
            bdir = entry.get("benchmark_dir")
            bdir = (suite_dir / bdir) if bdir is not None else benchmark_dir
            out.extend(_library(entry, place, file, bdir))
    return out


def _generated(entry, place, file) -> list[InstanceSpec]:
    import cutslack.problems as problems

    gen = entry["generator"]
    if gen not in GENERATORS:
        raise SuiteError(f"unknown generator {gen!r}; generators: {', '.join(GENERATORS)}", file=file,
                         place=f"{place}.generator")
    fn = getattr(problems, gen)
    params = entry.get("params", {})
    _check_keys(params, set(params), f"{place}.params", file)
    accepted = set(inspect.signature(fn).parameters) - {"rng"}
    for key in params:
        if key not in accepted:
            raise SuiteError(f"{gen} has no parameter {key!r}; its parameters are: {', '.join(sorted(accepted))}",
                             file=file, place=f"{place}.params.{key}")
    seeds = entry.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise SuiteError("must be a non-empty list of integers", file=file, place=f"{place}.seeds")
    keys = sorted(params)
    grids = [params[k] if isinstance(params[k], list) else [params[k]] for k in keys]
    out = []
    for combo in itertools.product(*grids):
        kwargs = dict(zip(keys, combo))
        for seed in seeds:
            try:
                problem = fn(**kwargs, rng=seed)
            except (CutslackError, TypeError, ValueError) as exc:
                raise SuiteError(f"{gen}({_fmt(kwargs)}) failed: {exc}", file=file, place=f"{place}.params") from None
            iid = f"{gen}({_fmt(kwargs)})#s{seed}"
            out.append(InstanceSpec(iid, GENERATORS[gen], f"generator:{gen}", problem, instance_hash(problem)))
    return out


def _fmt(kwargs) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items())


def _library(entry, place, file, bdir) -> list[InstanceSpec]:
    from cutslack.problems import library

    family = entry["library"]
    if bdir is None:
        bdir = library.default_benchmark_dir()
    if not (Path(bdir) / "MANIFEST.tsv").exists():
        raise SuiteError(f"benchmark library not found (no MANIFEST.tsv in {bdir}); pass --benchmarks DIR or set "
                         "CUTSLACK_BENCHMARKS", file=file, place=f"{place}.library")
    entries = dict(library.manifest_entries(bdir))
    # instances shipped in the package with published optima (OR-Library scp41-49) count like MANIFEST rows
    for name, shipped in library.PUBLISHED.items():
        entries.setdefault((shipped.family, name), None)
    known = [name for (fam, name) in entries if fam == family]
    if not known:
        raise SuiteError(f"no instance of family {family!r} in {bdir}/MANIFEST.tsv", file=file,
                         place=f"{place}.library")
    patterns = entry.get("names", ["*"])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise SuiteError("must be a list of name patterns", file=file, place=f"{place}.names")
    out = []
    for pattern in patterns:
        matched = [n for n in known if fnmatch.fnmatchcase(n, pattern)]
        if not matched:
            raise SuiteError(f"no {family} instance matches {pattern!r}", file=file, place=f"{place}.names")
        for name in matched:
            row = entries[(family, name)]
            if row is not None and not entry.get("min_n", 0) <= row.n <= entry.get("max_n", float("inf")):
                continue
            try:
                problem = library.load_instance(family, name, bdir)
            except CutslackError as exc:
                raise SuiteError(f"cannot load {family}/{name}: {exc}", file=file, place=f"{place}.names") from None
            if row is None and not entry.get("min_n", 0) <= problem.to_binary().n <= entry.get("max_n", float("inf")):
                continue
            out.append(InstanceSpec(f"{family}/{name}", family, f"library:{family}", problem, instance_hash(problem)))
    return out
