"""F1 risk curves (docs/science.md §F1a–F1c).

Experiments (keys of the ``risk`` config section):

- ``min_norm``: GD and SGD on underdetermined least squares from the origin converge to
  the minimum-norm interpolant X⁺y, and from w₀ to X⁺y + P⊥w₀;
- ``double_descent``: the test risk of minimum-norm least squares (and of ridge) over
  γ = d/n against its exact asymptotic risk, peaking at the interpolation threshold γ = 1;
- ``early_stopping``: GD stopped at time t against ridge with λ = 1/t (the spectral
  filters of both, their expected risks and the risk ratio bound).

References: Hastie, Montanari, Rosset & Tibshirani (2022); Ali, Kolter & Tibshirani
(2019); docs/science.md §F1.
"""

#: The family's section title in the report.
TITLE = "F1. Risk curves: minimum norm, double descent, early stopping"

#: Largest design batch (trials × n × d floats) held at once by
#: `implicit_reg.risk.experiments.simulate_double_descent` (and in its cost estimate).
DESIGN_BATCH_FLOATS = 2**24
