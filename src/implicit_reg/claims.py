"""Claims: a measured number, a threshold, a comparison, a sentence and its source.

Every figure family turns its aggregate tables into a list of `Claim` records; the
workflow writes them to ``results/claims/<family>.parquet`` with `claims_table` and the
report shows them. Whether a claim passed is never stored by hand: it is computed from
``measured``, ``comparison`` and ``threshold`` here, in one place.

Each record has a ``kind``:

- ``claim``: compares the *simulation* with an exact reference or a theorem, and would
  fail if the simulation were wrong (a wrong update, a wrong step size, a wrong limit);
- ``check``: holds by construction of the code (an identity, two closed forms compared,
  a solver's own optimality residual) and only guards against bugs. The report shows
  checks in their own table, apart from the claims; strict mode fails on either kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass

import pandas as pd

COMPARISONS = ("<=", ">=")
KINDS = ("claim", "check")
CLAIM_COLUMNS = (
    "family",
    "claim_id",
    "statement",
    "source",
    "measured",
    "threshold",
    "comparison",
    "passed",
    "kind",
)


def passes(measured: float, comparison: str, threshold: float) -> bool:
    """Evaluate ``measured <comparison> threshold``.

    Parameters
    ----------
    measured, threshold : float
        The measured value and its bound. A NaN or infinite ``measured`` never passes:
        a simulation that produced no number cannot support a claim.
    comparison : {"<=", ">="}
        A range is expressed as two claims.

    Returns
    -------
    bool
    """
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {COMPARISONS}, got {comparison!r}")
    if not math.isfinite(measured):
        return False
    return measured <= threshold if comparison == "<=" else measured >= threshold


@dataclass(frozen=True)
class Claim:
    """One quantitative statement checked against the simulations.

    Attributes
    ----------
    family : str
        Figure family, one of `implicit_reg.families.FAMILIES`.
    claim_id : str
        Stable snake_case identifier, unique within the family.
    statement : str
        The sentence being checked, with the quantities named.
    source : str
        Paper, theorem or docs/science.md section the statement comes from.
    measured : float
        The number computed from the simulation tables.
    threshold : float
        The bound, taken from theory or a convergence study shown in the report.
    comparison : {"<=", ">="}
        The claim holds when ``measured <comparison> threshold``.
    kind : {"claim", "check"}
        ``claim`` when the number compares a simulation with theory and could fail if the
        simulation were wrong; ``check`` when it holds by construction of the code
        (a consistency check that only guards against bugs).
    """

    family: str
    claim_id: str
    statement: str
    source: str
    measured: float
    threshold: float
    comparison: str
    kind: str = "claim"

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"claim {self.claim_id}: comparison must be one of {COMPARISONS}")
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.claim_id}: kind must be one of {KINDS}")
        if not self.claim_id.isidentifier() or self.claim_id.lower() != self.claim_id:
            raise ValueError(f"claim_id must be snake_case, got {self.claim_id!r}")
        object.__setattr__(self, "measured", float(self.measured))
        object.__setattr__(self, "threshold", float(self.threshold))

    @property
    def passed(self) -> bool:
        """Whether ``measured <comparison> threshold`` holds."""
        return passes(self.measured, self.comparison, self.threshold)


def sci(value: float) -> str:
    """``value`` as a statement writes a tolerance: ``1e-8``, ``2.5e-10`` (no padded
    exponent, unlike ``f"{value:g}"``), so that the constant checked is the one stated."""
    mantissa, exponent = f"{value:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def worst(values, how: str = "max", skipna: bool = False) -> float:
    """The worst of ``values`` for a claim: their maximum (``how="max"``) or minimum.

    A NaN among the values (a diverged trial, a number that could not be computed) makes
    the result NaN, and a NaN never passes (`passes`); ``skipna=True`` leaves NaN out,
    for values that are undefined by design on some rows. NaN when there are no values.
    """
    values = pd.Series(values, dtype=float)
    if not len(values):
        return float("nan")
    if how not in ("max", "min"):
        raise ValueError(f"how must be 'max' or 'min', got {how!r}")
    return float(values.max(skipna=skipna) if how == "max" else values.min(skipna=skipna))


def final_rows(table: pd.DataFrame, by, step: str = "step") -> pd.DataFrame:
    """The rows at the last recorded ``step`` of each group of ``by`` (column names)."""
    last = table.groupby(by)[step].transform("max")
    return table[table[step] == last]


def claims_table(claims: Iterable[Claim]) -> pd.DataFrame:
    """One row per claim with the columns of `CLAIM_COLUMNS`, ``passed`` computed.

    Raises
    ------
    ValueError
        If two claims of the same family share a ``claim_id``.
    """
    rows = [{**asdict(c), "passed": c.passed} for c in claims]
    table = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
    duplicated = table.duplicated(["family", "claim_id"])
    if duplicated.any():
        raise ValueError(f"duplicate claim ids: {sorted(table.claim_id[duplicated])}")
    return table.astype(
        {
            "family": "string",
            "claim_id": "string",
            "statement": "string",
            "source": "string",
            "measured": "float64",
            "threshold": "float64",
            "comparison": "string",
            "passed": "bool",
            "kind": "string",
        }
    )


def recompute_passed(table: pd.DataFrame) -> pd.Series:
    """Recompute ``passed`` from ``measured``, ``comparison``, ``threshold`` of a claims table.

    The report and the strict-claims check use this rather than trusting a stored flag.
    """
    return pd.Series(
        [
            passes(m, c, t)
            for m, c, t in zip(table.measured, table.comparison, table.threshold, strict=True)
        ],
        index=table.index,
        dtype=bool,
    )


#: ``CLAIMS`` of a family's ``claims`` module: a table's name (``<experiment>`` or
#: ``<experiment>_summary``) → the claims computed from that table; or a tuple of names →
#: claims pooled over those of the tables present, given as a mapping name → table.
ClaimMakers = Mapping[
    str | tuple[str, ...],
    Callable[[pd.DataFrame], list[Claim]] | Callable[[Mapping[str, pd.DataFrame]], list[Claim]],
]


def present_claims(tables: Mapping[str, pd.DataFrame], makers: ClaimMakers) -> list[Claim]:
    """Claims of the experiments present, in the order of ``makers``:
    ``makers[name](tables[name])`` for each table present, and
    ``makers[names]({name: tables[name]})`` over the tables present of a tuple of names.

    A partial configuration leaves experiments out; their claims are then not evaluated
    (the report lists what was skipped).
    """
    out: list[Claim] = []
    for key, make in makers.items():
        if isinstance(key, tuple):
            present = {name: tables[name] for name in key if name in tables}
            out += make(present) if present else []
        elif key in tables:
            out += make(tables[key])
    return out


def family_claims(family: str, tables: Mapping[str, pd.DataFrame]) -> list[Claim]:
    """Every claim of ``family`` on the tables present: its ``claims.CLAIMS`` (`present_claims`)."""
    from implicit_reg.families import family_module

    return present_claims(tables, family_module(family, "claims").CLAIMS)
