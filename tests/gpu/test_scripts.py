"""The GPU benchmark script under the CUDA simulator, and the kernels' compilation for a real device.

Both run in subprocesses: the script switches the simulator on itself, and compiling for a
device needs a process whose :mod:`numba.cuda` is not the simulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_script_runs_and_checks_under_the_simulator(tmp_path):
    out = tmp_path / "gpu.txt"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--simulate", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    assert "# checks: all passed" in text
    for kernel in ("anneal (kernel)", "anneal CSR", "tempering", "exhaustive", "QAOA expectation c128",
                   "QAOA expectation c64", "batched energies"):
        assert kernel in text


COMPILE = r"""
import types
import numpy as np
from numba import cuda, types as t
import numba.cuda.dispatcher as dispatcher
# device functions are compiled for the current device's compute capability: name one, there is no device here
dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
from cutslack.gpu import kernels as G, statevector as S
A1 = lambda d: t.Array(d, 1, "C")
A2 = lambda d: t.Array(d, 2, "C")
f32, f64, i64, i32, u8, u64, b1 = t.float32, t.float64, t.int64, t.int32, t.uint8, t.uint64, t.boolean
jobs = [
    (G._anneal_kernel, (A2(f32), A1(i64), A1(i64), A1(f32), b1, A2(u8), A2(f64), A1(f64), A1(u64))),
    (G._tempering_kernel, (A2(f64), A1(i64), A1(i64), A1(f64), b1, A2(u8), A2(f64), A1(f64), A1(f64), A1(u64),
                           A1(u64), i64, i64, A2(u8), A1(f64), A2(i32))),
    (G._gray_kernel, (A2(f64), A1(f64), A1(i64), i64, A2(f64), A2(i64))),
]
for c in (t.complex128, t.complex64):
    jobs += [(S._phase_kernel, (A1(c), A1(f64), f64)),
             (S._low_qubits_kernel, (A1(c), A1(t.complex128), A1(f64), f64, i64, A2(f64), i64)),
             (S._high_pair_kernel, (A1(c), i64, i64, f64, f64, f64, f64))]
for kernel, sig in jobs:
    ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))
    assert ".entry" in ptx
print("compiled", len(jobs))
"""


def test_kernels_compile_for_a_device():
    """Type inference, lowering and NVVM for sm_90 (skipped where NVRTC/NVVM libraries are absent)."""
    pathfinder = pytest.importorskip("cuda.pathfinder")
    for lib in ("nvrtc", "nvvm"):
        try:
            pathfinder.load_nvidia_dynamic_lib(lib)
        except Exception:
            pytest.skip(f"lib{lib} not found (pip install nvidia-cuda-nvrtc nvidia-nvvm, or a CUDA toolkit)")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", COMPILE], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "compiled 9" in proc.stdout
