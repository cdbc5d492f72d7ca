"""Shared fixtures: the benchmark library beside the repository (``../shared/benchmarks``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(os.environ.get("CUTSLACK_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    """Path of the shared benchmark library (tests that need it skip when it is absent)."""
    if not (BENCHMARKS / "MANIFEST.tsv").exists():
        pytest.skip(f"benchmark library not found at {BENCHMARKS}")
    return BENCHMARKS
