"""The "Today" page (每日工作计划) is a list of sections that apps register at startup.

A section is a function ``(user) -> Section | None``; it reads through its own app's selectors (so
row-level access applies) and returns None when it has nothing to show. Adding a capability's
section never touches the others: the app calls ``register`` from its ``apps.py``, with the function
or its dotted path (imported when Today is first shown, not at every start of a
command: the sections' modules import their apps' selectors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import import_string


@dataclass
class Section:
    key: str
    title: str
    template: str
    items: list[Any] = field(default_factory=list)
    count: int = 0
    order: int = 100
    link: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


SectionFn = Callable[[Any], "Section | None"]
_sections: list[SectionFn | str] = []


def register(fn: SectionFn | str) -> SectionFn | str:
    if fn not in _sections:
        _sections.append(fn)
    return fn


def _functions() -> list[SectionFn]:
    for i, fn in enumerate(_sections):
        if isinstance(fn, str):
            _sections[i] = import_string(fn)
    return _sections  # type: ignore[return-value]


def sections_for(user) -> list[Section]:
    out = [s for s in (fn(user) for fn in _functions()) if s is not None]
    return sorted(out, key=lambda s: s.order)
