"""What comes after a tender, offered on its pages by the modules above it (contracts:
"draft the contract" once the award is final, then the contract's link), without the
tenders module importing them (tests/test_layers.py keeps imports one way).

A provider is ``fn(user, tender) -> Step | None``, registered at import
(``@followups.provider``); the pages show the steps the providers give, in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import Tender


@dataclass(frozen=True)
class Step:
    label: str
    url: str
    #: The officer's next action (a button), or a plain link to what exists.
    is_action: bool = False
    #: A stable id for the page element.
    key: str = "next-step"


_providers: list[Callable] = []


def provider(fn: Callable) -> Callable:
    if fn not in _providers:
        _providers.append(fn)
    return fn


def next_steps(user, tender: Tender) -> list[Step]:
    """The steps the providers offer ``user`` on ``tender`` (empty when none)."""
    steps = []
    for fn in _providers:
        step = fn(user, tender)
        if step is not None:
            steps.append(step)
    return steps
