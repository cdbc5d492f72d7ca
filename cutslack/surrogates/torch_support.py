"""The one place the surrogates ask for torch: :func:`require_torch` imports it lazily.

torch is the ``ml`` extra (the CPU build); a missing torch raises
:class:`~cutslack.errors.BackendUnavailableError` with the install line.
"""

from __future__ import annotations

from cutslack.errors import BackendUnavailableError

__all__ = ["require_torch", "TORCH_INSTALL"]

#: the install line quoted when torch is missing
TORCH_INSTALL = 'pip install "cutslack[ml]"  (or: pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu)'


def require_torch():
    """Return the ``torch`` module, or raise ``BackendUnavailableError`` with the install line."""
    try:
        import torch
    except ImportError:
        raise BackendUnavailableError("PyTorch (the 'ml' extra)", TORCH_INSTALL) from None
    return torch
