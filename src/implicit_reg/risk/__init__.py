"""F1 risk curves: minimum norm, double descent, early stopping vs ridge."""

from implicit_reg.experiment import Experiment
from implicit_reg.risk.claims import claims
from implicit_reg.risk.experiments import (
    simulate_double_descent,
    simulate_early_stopping,
    simulate_min_norm,
)

EXPERIMENTS = {
    "min_norm": Experiment(
        simulate_min_norm,
        keys=("n_samples", "n_features", "algorithm", "init", "step"),
        artifacts=True,
    ),
    "double_descent": Experiment(
        simulate_double_descent,
        keys=("noise_std", "n_samples", "gamma", "n_features", "estimator", "ridge_lambda"),
        artifacts=True,
    ),
    "early_stopping": Experiment(
        simulate_early_stopping, keys=("n_samples", "n_features", "step"), artifacts=True
    ),
}

__all__ = ["EXPERIMENTS", "claims"]
