"""Figure captions: the workflow's list of figures and the experiments each one needs.

Each figure of a family has a caption ``workflow/report/<family>/<figure>.rst``. Its
first line is a reStructuredText comment naming the experiments the figure is drawn
from::

    .. needs: min_norm, double_descent

A figure whose experiments are not all in the configuration is skipped (no job, no
output) and the report says so. A paragraph starting ``Supports claims:`` (or
``Supports claim:``, ``Supports the consistency checks``, ``Consistency checks:``) names, as
``literals``, the claim and check ids the figure shows (``*`` for any run of
characters). Standard library only: it runs at parse time.
"""

from __future__ import annotations

import re

NEEDS = re.compile(r"^\.\.\s+needs:\s*(.*)$")
LITERAL = re.compile(r"``([^`]+)``")
#: How a caption's paragraph of claim ids starts ("Supports claims:", "Supports claim:",
#: "Supports the consistency checks", "Consistency checks:").
SUPPORTS = re.compile(r"(Supports (the )?(claims?|consistency checks?)|Consistency checks?:)")


def caption_needs(text: str) -> tuple[str, ...]:
    """Experiments named on the caption's ``.. needs:`` line (empty if there is none)."""
    for line in text.splitlines():
        match = NEEDS.match(line.strip())
        if match:
            return tuple(name.strip() for name in match.group(1).split(",") if name.strip())
    return ()


def caption_body(text: str) -> str:
    """The caption without its reStructuredText comment lines (``.. needs:`` and others)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(".."))


TITLE = re.compile(r"^\.\.\s+title:\s*(.*)$")


def caption_title(text: str) -> str:
    """The figure's title for readers, from the caption's ``.. title:`` comment line."""
    for line in text.splitlines():
        match = TITLE.match(line.strip())
        if match:
            return match.group(1).strip()
    return ""


def caption_claims(text: str) -> tuple[str, ...]:
    """Claim ids (or ``*`` patterns) named in the caption's ``Supports claims:`` paragraphs."""
    paragraphs = re.split(r"\n\s*\n", text)
    found = [p for p in paragraphs if SUPPORTS.match(p.lstrip())]
    return tuple(name for p in found for name in LITERAL.findall(p))


def without_claims_paragraph(text: str) -> str:
    """The caption without its "Supports claims" and "Consistency checks" paragraphs (the
    report lists those claims below the figure, each with its status)."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(p for p in paragraphs if not SUPPORTS.match(p.lstrip())) + "\n"
