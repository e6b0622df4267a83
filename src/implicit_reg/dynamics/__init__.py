"""F6 dynamics: how the trajectory picks the solution (docs/science.md §F6a–F6c).

Experiments (keys of the ``dynamics`` config section):

- ``matrix_factorization``: GD on the factors of a depth-N factorization from a balanced
  aligned init against the exact singular-value dynamics (closed forms, solve_ivp);
- ``linear_nets``: GD and SGD on two-layer linear networks against the exact limit
  ``A_min + W₂(∞)W₁(0)P⊥``;
- ``lazy_training``: GD on a 1/√m two-layer tanh network across widths against its
  linearization (empirical NTK), with the PL bound;
- ``pl_rate``: GD on least squares against the PL linear rate ``(1 − ημ)^k``.

References: Saxe et al. (2014); Arora et al. (2019); Zhang et al. (2017); Jacot et al.
(2018); Chizat et al. (2019); Du et al. (2019); Polyak (1963); Karimi et al. (2016);
docs/science.md §F6 (the two-layer linear network limit: §F6b).
"""

from implicit_reg.dynamics.claims import claims
from implicit_reg.dynamics.experiments import (
    simulate_lazy_training,
    simulate_linear_nets,
    simulate_matrix_factorization,
    simulate_pl_rate,
)
from implicit_reg.experiment import Experiment

EXPERIMENTS = {
    "matrix_factorization": Experiment(
        simulate_matrix_factorization,
        keys=("depth", "init_scale", "step_fraction", "step", "index"),
        artifacts=True,
    ),
    "linear_nets": Experiment(
        simulate_linear_nets, keys=("n_samples", "init", "algorithm", "step"), artifacts=True
    ),
    "lazy_training": Experiment(
        simulate_lazy_training, keys=("n_samples", "width", "step"), artifacts=True
    ),
    "pl_rate": Experiment(
        simulate_pl_rate, keys=("n_features", "n_samples", "step"), artifacts=True
    ),
}

__all__ = ["EXPERIMENTS", "claims"]
