"""Returns the provenance header every benchmark writes at the top of its results file.

The header says how the numbers were produced: the exact command, the thread settings,
the versions (Python, NumPy, cutslack and its git commit), the date, the load average when the
run started and ended, and that the machine was shared, so wall times are noisy.  Scripts in ``benchmarks/`` import it as
``from provenance import results_header`` (their own folder is first on ``sys.path``).
"""

from __future__ import annotations

import datetime
import functools
import os
import platform
import subprocess
import sys
from pathlib import Path

__all__ = ["command_line", "git_revision", "load_average", "results_header", "text_header", "thread_settings"]

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARIABLES = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
NOISE_NOTE = ("Measured on a shared, noisy machine (2 cores used by several sessions at once): wall times are "
              "indicative only; objective values, gaps and qubit counts do not depend on the load.")


def portable_args(args) -> list[str]:
    """Return ``args`` with absolute paths made relative to the repository (others: their file name),
    so a results file names no path of the machine it ran on."""
    out = []
    for arg in args:
        if isinstance(arg, str) and arg.startswith("/"):
            path = Path(arg)
            try:
                arg = str(path.resolve().relative_to(ROOT))
            except ValueError:
                arg = path.name
        out.append(arg)
    return out


def command_line(script: str, argv=None) -> str:
    """Return the command that reproduces this run: thread variables, interpreter, script, arguments."""
    args = portable_args(sys.argv[1:] if argv is None else list(argv))
    env = " ".join(f"{var}={os.environ[var]}" for var in THREAD_VARIABLES if var in os.environ)
    rel = Path(script).resolve()
    try:
        rel = rel.relative_to(ROOT)
    except ValueError:
        pass
    return " ".join(part for part in (env, "python", str(rel), *args) if part)


@functools.cache
def git_revision() -> str:
    """Return the cutslack checkout's commit hash (with ``+dirty`` when the tree has edits), or ``unknown``.

    Read once (the first call, at import of this module) so the header names the code the
    run started with, even if the checkout changes while a long benchmark runs.
    """
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True, timeout=10).stdout.strip()
        # results files being rewritten are not code: they do not make the checkout "dirty"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)benchmarks/results"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


git_revision()


def load_average() -> str:
    """Return the 1-minute load average as text (``unknown`` where the OS does not report it)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


#: the load when the benchmark started (this module is imported before anything is timed)
LOAD_AT_START = load_average()


def thread_settings() -> str:
    """Return the thread variables as ``NAME=value`` pairs (``unset`` where not set)."""
    return ", ".join(f"{var}={os.environ.get(var, 'unset')}" for var in THREAD_VARIABLES)


def results_header(script: str, argv=None, *, extra: str = "") -> str:
    """Return the markdown provenance block for a results file written by ``script``."""
    import numpy as np

    import cutslack

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Written by `{Path(script).name}` (not edited by hand).", "",
             f"- command: `{command_line(script, argv)}`",
             f"- threads: {thread_settings()}",
             f"- versions: Python {platform.python_version()}, NumPy {np.__version__}, cutslack "
             f"{cutslack.__version__} (git {git_revision()})",
             f"- date: {now}",
             f"- load average (1 min) at start / end: {LOAD_AT_START} / {load_average()} on {os.cpu_count()} cores",
             f"- note: {NOISE_NOTE}"]
    if extra:
        lines.append(f"- {extra}")
    return "\n".join(lines) + "\n"


def text_header(script: str, argv=None, *, extra: str = "") -> str:
    """Return :func:`results_header` as ``#`` comment lines, for plain-text results files."""
    lines = [line for line in results_header(script, argv, extra=extra).splitlines() if line]
    return "\n".join("# " + line.removeprefix("- ") for line in lines) + "\n"
