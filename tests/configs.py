"""Helpers of the configuration tests: edit a configuration by dotted key, collect the
check's problems."""

from __future__ import annotations

import copy

import pytest

from implicit_reg.workflow.checks import ConfigError
from implicit_reg.workflow.configcheck import check_config_and_fill

#: Dotted prefixes of the noise and dynamics experiments' keys.
S = "noise.ou.scalar"
Q = "noise.ou.quadratic"
F = "noise.stochastic_approximation.factorization"
D = "noise.stochastic_approximation.dropout"
L = "noise.label_noise"
M = "dynamics.matrix_factorization"
N = "dynamics.linear_nets"
Z = "dynamics.lazy_training"
P = "dynamics.pl_rate"


def set_key(config: dict, path: str, value) -> dict:
    """Set the dotted key ``path`` of ``config`` to ``value`` (sections created as needed)."""
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return config


def problems(config: dict) -> str:
    """The message of the `ConfigError` the check raises for ``config`` (fails if none)."""
    with pytest.raises(ConfigError) as error:
        check_config_and_fill(copy.deepcopy(config))
    return str(error.value)
