"""Plausible bugs of the simulations, registered per family, that the claims must catch.

A claim is evidence only if a wrong simulation fails it. Each family lists, in
``implicit_reg.<family>.bugs.BUGS``, bugs a careful implementer could plausibly make (a
step size off by 2%, noise of the wrong scale or mean, a missing factor, a wrong exponent,
an initialization leaking into the null space): what the bug is, where it enters (a
module attribute replaced by a wrapper of the original function), the experiment that
runs with it, and the claims it must make fail. ``tests/test_bugs.py`` injects every bug,
runs its experiment in memory at the smoke configuration's size and asserts that each
listed claim passes without the bug and fails with it. The report shows, for each claim,
the bugs it is shown to detect; a claim that no registered bug flips is marked as such.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Bug:
    """One plausible bug of a simulation and the claims that catch it.

    Attributes
    ----------
    name : str
        snake_case identifier, unique within the family.
    description : str
        What is wrong, in a reader's words ("the GD step is 2% too large").
    experiment : str
        The experiment that runs with the bug.
    target : str
        ``"module:attribute"``, the function the bug replaces, named where the simulation
        looks it up (patching a name another module imported by value has no effect).
    wrap : callable
        ``wrap(original) -> buggy``: the buggy function, built from the original.
    flips : tuple of str
        The claims the bug must make fail.
    config : mapping
        Keys of the experiment's smoke section to override for this test (e.g. more
        trials, so that a small bug is resolved); empty by default.
    """

    name: str
    description: str
    experiment: str
    target: str
    wrap: Callable[[Callable], Callable]
    flips: tuple[str, ...]
    config: Mapping = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if ":" not in self.target:
            raise ValueError(f"bug {self.name}: target must be 'module:attribute'")
        if not self.flips:
            raise ValueError(f"bug {self.name}: it must flip at least one claim")


def family_bugs(family: str) -> tuple[Bug, ...]:
    """The registered bugs of ``family`` (``implicit_reg.<family>.bugs.BUGS``)."""
    return tuple(importlib.import_module(f"implicit_reg.{family}.bugs").BUGS)


@contextmanager
def injected(bug: Bug) -> Iterator[None]:
    """Run the enclosed code with ``bug`` in place of its target; restore it after."""
    module_name, attribute = bug.target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attribute)
    setattr(module, attribute, bug.wrap(original))
    try:
        yield
    finally:
        setattr(module, attribute, original)


def detected_bugs(family: str) -> dict[str, list[str]]:
    """Claim id -> descriptions of the registered bugs it is shown to detect."""
    found: dict[str, list[str]] = {}
    for bug in family_bugs(family):
        for claim_id in bug.flips:
            found.setdefault(claim_id, []).append(bug.description)
    return found


def scaled_argument(position: int, factor: float, name: str | None = None):
    """``wrap`` that multiplies one argument of the original by ``factor`` (a step size
    or a noise level off by a few percent): by keyword ``name`` when given that way, else
    at ``position``."""

    def wrap(original):
        def buggy(*args, **kwargs):
            if name is not None and name in kwargs:
                kwargs[name] = factor * kwargs[name]
            else:
                args = (*args[:position], factor * args[position], *args[position + 1 :])
            return original(*args, **kwargs)

        return buggy

    return wrap
