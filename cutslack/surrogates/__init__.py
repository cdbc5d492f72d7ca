"""Learned surrogates: models and online learners that stand in for, or tune, expensive solvers
(FMQA, IGNITE, MAP, SSO, learned SOR relaxation, learned value functions).

Modules load lazily on first attribute access (``cutslack.surrogates.fmqa``), so importing
this package imports neither torch nor any surrogate module.  Only this subpackage imports
torch, always inside functions (a missing torch raises ``BackendUnavailableError``).
"""

from __future__ import annotations

import importlib


def __getattr__(name):
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        raise
