"""PAdES signatures of PDFs with pyHanko: signing and validating (``procure/_pades.py``).

This module is the way in, and it imports pyHanko (~45 MB) only when one of its names is
first used: a web worker that serves pages but never signs or verifies a PDF does not hold
it (see ``procure/pdf.py``, ``_fetcher_class``, on heavy imports). ``from procure import pades`` then
``pades.sign_pdf(...)``, or ``from procure.pades import sign_pdf``, work as before.
"""

from __future__ import annotations


def __getattr__(name: str):
    from . import _pades

    try:
        return getattr(_pades, name)
    except AttributeError:
        raise AttributeError(f"module 'procure.pades' has no attribute {name!r}") from None
