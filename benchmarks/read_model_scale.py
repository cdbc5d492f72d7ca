"""read_model on a 100,000-column binary MPS file: time and peak memory, against HiGHS's own read.

The model (a sparse multi-row knapsack: ``n`` binary columns, ``m`` ``<=`` rows, ``k``
nonzeros per column) is written with HiGHS (:func:`cutslack.models.write_model`, i.e.
``passModel`` + ``writeModel``).  Each measurement runs in a fresh child process so that its
peak resident memory (``ru_maxrss``) is its own:

* the peer: ``highspy.Highs().readModel`` + ``getModel`` alone (the parse every reader pays);
* ours: :func:`cutslack.models.read_model` (the parse plus the conversion to a sparse
  BinaryProgram, row record and variable map).

It prints both times, both peaks, the time ratio and the memory a dense ``A`` would need
(which is never built), and writes them to ``benchmarks/results/read_model_scale.md``.

Usage::

    python benchmarks/read_model_scale.py [--n 100000] [--m 10000] [--per-column 5] [--gz]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "read_model_scale.md"

CHILD = r"""
import json, resource, sys, time
which, path = sys.argv[1], sys.argv[2]
import highspy, numpy, scipy.sparse
import cutslack.models
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, cpu = time.perf_counter(), time.process_time()
if which == "highs":
    with cutslack.models.files.quiet_highs() as (h, call):
        status, _ = call(h.readModel, path)
        assert status == highspy.HighsStatus.kOk
        model = h.getModel()
        n = model.lp_.num_col_
else:
    program = cutslack.models.read_model(path)
    n = program.n
    assert scipy.sparse.issparse(program.A_le)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": peak / 1024, "added_mib": (peak - base) / 1024, "n": int(n)}))
"""


def scale_program(n: int, m: int, per_column: int):
    """Return the benchmark's BinaryProgram: ``per_column`` ones per column spread over ``m`` rows."""
    from cutslack.binary import BinaryProgram

    rows = (np.arange(n)[:, None] * 7 + np.arange(per_column)[None, :] * (m // per_column + 1)) % m
    weights = 1.0 + (np.arange(n * per_column) % 17)
    A = sp.csc_matrix((weights, np.sort(rows, axis=1).reshape(-1), np.arange(0, n * per_column + 1, per_column)),
                      shape=(m, n))
    capacity = np.full(m, float(np.ceil(0.5 * per_column * n / m * 9)))
    return BinaryProgram(c=1.0 + np.arange(n) % 23, sense="max", A_le=A.tocsr(), b_le=capacity)


def measure(which: str, path: Path) -> dict:
    """Run one measurement in a fresh process and return its JSON record."""
    done = subprocess.run([sys.executable, "-c", CHILD, which, str(path)], capture_output=True, text=True, check=True,
                          cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--m", type=int, default=10_000)
    parser.add_argument("--per-column", type=int, default=5)
    parser.add_argument("--gz", action="store_true", help="write and read a .mps.gz file")
    args = parser.parse_args(argv)
    from cutslack.models import write_model

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"scale.mps{'.gz' if args.gz else ''}"
        write_model(scale_program(args.n, args.m, args.per_column), path)
        size_mib = path.stat().st_size / 2**20
        peer = measure("highs", path)
        ours = measure("read_model", path)
    dense_gib = args.n * args.m * 8 / 2**30
    lines = [
        f"# read_model at scale: n={args.n} columns, m={args.m} rows, {args.per_column} nonzeros per column",
        "",
        f"file: {path.name}, {size_mib:.1f} MiB; a dense A would need {dense_gib:.1f} GiB (never built)",
        "",
        "| reader | wall s | CPU s | peak RSS MiB | added MiB |",
        "| --- | --- | --- | --- | --- |",
        f"| HiGHS readModel + getModel (peer) | {peer['seconds']:.2f} | {peer['cpu']:.2f} | {peer['peak_mib']:.0f} "
        f"| {peer['added_mib']:.0f} |",
        f"| cutslack.models.read_model | {ours['seconds']:.2f} | {ours['cpu']:.2f} | {ours['peak_mib']:.0f} "
        f"| {ours['added_mib']:.0f} |",
        "",
        f"time ratio read_model / HiGHS alone: {ours['seconds'] / peer['seconds']:.2f} wall, "
        f"{ours['cpu'] / peer['cpu']:.2f} CPU (CPU time is the steadier figure on a shared machine)",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
