"""Learned surrogates: value functions, their embedding in MILPs, and the solvers built on them.

Submodules are imported on first use (``cutslack.surrogates.robust_value``, ...); none imports
torch at module level — only training needs it.
"""

import importlib

__all__ = ["robust_value", "embedding", "neur2ro"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
