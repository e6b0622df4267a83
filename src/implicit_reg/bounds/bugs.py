"""Plausible bugs of the bounds simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

BUGS = ()
