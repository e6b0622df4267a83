"""Plausible bugs of the noise simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

BUGS = ()
