"""Status badges coloured by meaning (issue 12 item 2): every state of every machine is
shown with the same colour for the same kind of situation, so a glance at a list says
what is done, what waits for someone, and what went wrong.

A state enum may define its own ``tone`` property; otherwise its value decides."""

from __future__ import annotations

from markupsafe import Markup, escape

#: Bootstrap contextual colours by state value (machines share value names).
_TONES = {
    "success": {"approved", "active", "passed", "paid", "signed", "completed", "final", "awarded", "qualified",
                "declared", "sent", "published", "answered", "done", "scored", "verified", "normal"},
    "danger": {"rejected", "failed", "terminated", "cancelled", "disqualified", "conflicted", "overdue", "dead",
               "upheld", "serious", "expired"},
    "warning": {"submitted", "pending_signature", "revision_requested", "evaluating", "requested", "rendering",
                "pending", "acceptance", "ready", "open", "lodged", "assigned", "drawn", "queued", "running",
                "abnormal", "closed_bids", "due"},
    "secondary": {"draft", "withdrawn", "superseded", "closed", "not_awarded", "archived", "dismissed", "replaced",
                  "backup", "muted"},
}
_BY_VALUE = {value: tone for tone, values in _TONES.items() for value in values}


def tone(state) -> str:
    """The colour of a state: success, danger, warning, secondary or primary (in progress)."""
    own = getattr(type(state), "tone", None)
    if isinstance(own, property):
        return state.tone
    return _BY_VALUE.get(getattr(state, "value", str(state)), "primary")


def state_badge(state, *, id: str | None = None, large: bool = False, label=None) -> Markup:
    """``<span class="badge text-bg-…" data-state="…">label</span>``."""
    value = getattr(state, "value", None)
    if value is None:
        value = str(state)
    text = label if label is not None else getattr(state, "label", value)
    # Plain concatenation of escaped parts: Markup.format costs ~10× more, and a list
    # shows a badge on every row.
    size = " fs-6" if large else ""
    id_attr = ' id="%s"' % escape(id) if id else ""  # noqa: UP031
    return Markup(f'<span class="badge text-bg-{tone(state)}{size}" data-state="{escape(value)}"{id_attr}>'
                  f'{escape(text)}</span>')
