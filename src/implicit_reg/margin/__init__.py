"""Margin family (docs/science.md §F2): GD on separable data finds the max-margin direction.

Experiments
-----------
``soudry``
    F2a: GD, heavy-ball momentum and normalized GD on the logistic and exponential
    losses, on the 2-D Soudry et al. dataset and on random separable datasets, against
    the exact hard-margin SVM.
``perceptron``
    F2b: perceptron updates against the Block–Novikoff bound (R/γ)².
``test_loss``
    F2c: the test loss rises while the test error does not.
"""

from implicit_reg.experiment import Experiment
from implicit_reg.margin.claims import claims
from implicit_reg.margin.experiments import (
    simulate_perceptron,
    simulate_soudry,
    simulate_test_loss,
)

EXPERIMENTS = {
    "soudry": Experiment(
        simulate_soudry, keys=("dataset", "loss", "algorithm", "step"), artifacts=True
    ),
    "perceptron": Experiment(
        simulate_perceptron, keys=("n_samples", "dim", "planted_margin"), artifacts=True
    ),
    "test_loss": Experiment(simulate_test_loss, keys=("step",), artifacts=True),
}

__all__ = ["EXPERIMENTS", "claims"]
