"""Translations the catalog test cannot see: a gettext call inside an f-string is never
extracted by pybabel (the f-string is one token), so the catalog is "complete" while the
page shows English. Found with the budget check's "remaining"."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALL_IN_FSTRING = re.compile(r"\{[^{}]*\b(_|_l|gettext|lazy_gettext|ngettext|pgettext)\(")


def _fstring_calls(path: Path) -> list[str]:
    found = []
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    for tok in tokens:
        if tok.type != tokenize.STRING:
            continue
        prefix = re.match(r"[A-Za-z]*", tok.string).group(0).lower()
        if "f" in prefix and CALL_IN_FSTRING.search(tok.string):
            found.append(f"{path.relative_to(ROOT)}:{tok.start[0]}")
    return found


def test_no_translation_call_inside_an_f_string():
    found = [hit for folder in ("procure", "workers") for path in sorted((ROOT / folder).rglob("*.py"))
             for hit in _fstring_calls(path)]
    assert found == [], "use _('… %(name)s …', name=…) instead of a call inside an f-string"
