"""Time limits on large knapsacks: every registered method that accepts a ``Knapsack``, each run
in a fresh subprocess, on one-row knapsacks of n = 10^5, 10^6, 10^7 items and a 10^5-item MDKP.

Prints, per run, the process's wall time (instance generation excluded) against the limit, the
allowance ``limit + max(10 %, 1 s)`` (:func:`cutslack.reliability.allowed_overshoot`), the
kernel compile time reported in ``info["compile_s"]``, the status and feasibility.  A method
that refuses the instance (``CutslackError``: too large, wrong shape) is listed as refused.

    OMP_NUM_THREADS=1 python benchmarks/time_limits.py                 # 10^5 and 10^6 rows, 10^5 MDKP
    OMP_NUM_THREADS=1 python benchmarks/time_limits.py --sizes 1e7     # the 10^7 rows
    python benchmarks/time_limits.py --methods mdkp-greedy,milp --limit 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

__all__ = ["knapsack_methods", "run_one", "main"]

_CHILD = r"""
import json, sys, time
import cutslack
from cutslack.errors import CutslackError
from cutslack.problems import random_knapsack, random_mdkp
method, n, m, limit = sys.argv[1], int(float(sys.argv[2])), int(sys.argv[3]), float(sys.argv[4])
problem = random_knapsack(n, rng=1) if m == 1 else random_mdkp(n, m, rng=1)
start = time.perf_counter()
try:
    res = cutslack.solve(problem, method=method, rng=0, time_limit=limit)
except CutslackError as exc:
    out = {"refused": f"{type(exc).__name__}: {str(exc)[:70]}"}
else:
    out = {"status": res.status.name, "feasible": bool(res.feasible), "compile_s": res.info.get("compile_s", 0.0),
           "objective": res.objective}
out["wall"] = time.perf_counter() - start
print("RESULT " + json.dumps(out))
"""


def knapsack_methods() -> list[str]:
    """Return the registered methods that accept a :class:`~cutslack.problems.Knapsack`."""
    import cutslack
    from cutslack.api import SOLVERS
    from cutslack.problems import Knapsack

    return [m for m in cutslack.available_methods()
            if not m.startswith("test-") and any(issubclass(Knapsack, t) for t in SOLVERS[m].accepts)]


def run_one(method: str, n: int, m: int, limit: float, hard_timeout: float) -> dict:
    """Run ``method`` on a generated knapsack in a fresh process; return what it printed (or the timeout)."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, method, str(n), str(m), str(limit)], env=env,
                              capture_output=True, text=True, timeout=hard_timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {hard_timeout:.0f} s", "wall": hard_timeout}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:80], "wall": float("nan")}


def main(argv=None) -> int:
    from cutslack.reliability import allowed_overshoot

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e5,1e6", help="one-row knapsack sizes, comma separated")
    parser.add_argument("--mdkp", default="1e5", help="MDKP sizes (5 rows), comma separated; '' for none")
    parser.add_argument("--methods", default="", help="comma separated (default: every method taking a Knapsack)")
    parser.add_argument("--limit", type=float, default=2.0, help="time_limit in seconds")
    parser.add_argument("--kill-after", type=float, default=60.0, help="seconds before a run is killed")
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m] or knapsack_methods()
    cases = [(int(float(n)), 1) for n in args.sizes.split(",") if n]
    cases += [(int(float(n)), 5) for n in args.mdkp.split(",") if n]
    allowed = args.limit + allowed_overshoot(args.limit)
    print(f"time_limit {args.limit} s, allowed {allowed:.1f} s (compile_s excluded)")
    print(f"{'instance':<14} {'method':<22} {'wall s':>7} {'compile':>7} {'ok':>3}  status / note")
    late = 0
    for n, m in cases:
        for method in methods:
            t0 = time.perf_counter()
            out = run_one(method, n, m, args.limit, hard_timeout=max(args.kill_after, 2 * args.limit))
            wall, compile_s = out["wall"], out.get("compile_s", 0.0)
            ok = wall - compile_s <= allowed
            late += not ok
            note = (out.get("refused") or out.get("error")
                    or f"{out['status']:<10} feasible={out['feasible']} objective={out['objective']}")
            print(f"{'n=%g m=%d' % (n, m):<14} {method:<22} {wall:7.2f} {compile_s:7.2f} {'yes' if ok else 'NO':>3}  "
                  f"{note}   [{time.perf_counter() - t0:.1f} s with start-up]", flush=True)
    print(f"{late} run(s) over the allowance")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
