"""F3: the ℓ1 ↔ ℓ2 crossover of diagonal linear networks (docs/science.md §F3a–F3b).

Experiments (keys of the ``diagonal`` config section):

- ``crossover``: exact Q_α limits over an α grid per n (Newton dual), with the ℓ1 and ℓ2
  interpolators, distances, population errors and KKT residuals;
- ``trajectories``: gradient descent on θ = u⊙u − v⊙v for a few α and two step sizes,
  distance to the exact limit along the path;
- ``sparse_recovery``: gradient descent on f_β = ⟨β⊙β, x⟩ from β₀ = α·1 with noiseless
  and noisy labels (and on the population loss), recovery error, on/off-support
  magnitudes, against least squares on the true support.

The noise family uses the exact references `implicit_reg.diagonal.exact.q_alpha_limit`
and ``min_l1_interpolator``, the step-size scale and the gradient of the (u, v) model.

References: Woodworth et al. (2020); Li, Ma & Zhang (2018); Vaškevičius, Kanade &
Rebeschini (2019); docs/science.md §F3.
"""

#: The family's section title in the report.
TITLE = "F3. The ℓ1 ↔ ℓ2 crossover: diagonal linear networks"
