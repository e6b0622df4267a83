"""Plausible bugs of the bounds simulations and the claims that catch them.

See `implicit_reg.bugs`.
"""

from __future__ import annotations

from implicit_reg.bugs import Bug


def _learning_rate_hundredfold_small(original):
    """`mlp.train` with ``lr/100``."""

    def train(*args, **kwargs):
        return original(*args, **{**kwargs, "lr": kwargs["lr"] / 100})

    return train


BUGS = (
    Bug(
        "sgd_learning_rate_hundredfold_small",
        "SGD trains with η/100 (the loss gradient averaged over the batch twice)",
        "corruption",
        "implicit_reg.bounds.mlp:train",
        _learning_rate_hundredfold_small,
        ("train_error_every_p",),
    ),
)
