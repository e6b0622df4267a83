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

#: The family's section title in the report.
TITLE = "F6. Dynamics: how the trajectory picks the solution"

#: Neurons per block when `implicit_reg.dynamics.network` evaluates many points: bounds
#: the (trials, points, block) activations whatever the width (and the cost estimate).
NEURON_BLOCK = 4096
