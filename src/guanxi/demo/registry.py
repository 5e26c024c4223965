"""The demo generators: one per app, run in ``order``.

An app adds its demo data by registering a generator at startup (from its ``apps.py``)::

    from guanxi.demo import registry
    registry.register("sales", "guanxi.sales.demo.generate", order=40)

The generator may be given by its dotted path: it is imported when the demo is loaded, not
at every start of the server or of a command (the demo modules pull in Faker and large tables).

A generator is ``fn(ctx: DemoContext) -> dict[str, int] | None``: it writes through the app's
services, reads what earlier generators left in ``ctx.state``, and returns counts for the summary.
Before each write it calls ``ctx.at(when)`` with the moment the write is meant to have happened,
and it lists its timestamp columns with ``ctx.track(Model, "field", ...)`` so that the loader can
move them from "now" to that moment afterwards (see ``context.TimeWarp``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Generator:
    name: str
    fn: Callable[[Any], dict[str, int] | None]
    order: int


_generators: dict[str, Generator] = {}


def register(name: str, fn: Callable[[Any], dict[str, int] | None] | str, order: int = 100) -> None:
    """Register (or replace) the generator ``name`` (a function or its dotted path); lower
    ``order`` runs first."""
    _generators[name] = Generator(name=name, fn=fn, order=order)  # type: ignore[arg-type]


def generators() -> list[Generator]:
    for name, g in list(_generators.items()):
        if isinstance(g.fn, str):
            _generators[name] = Generator(name=g.name, fn=import_string(g.fn), order=g.order)
    return sorted(_generators.values(), key=lambda g: (g.order, g.name))
