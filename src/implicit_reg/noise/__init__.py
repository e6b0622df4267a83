"""F5: what noise adds to gradient descent (docs/science.md §F5a–F5c).

Experiments (keys of the ``noise`` config section)
--------------------------------------------------
``ou``
    F5a: SGD noise as an Ornstein–Uhlenbeck process: the 1-D recursion over an ηa grid
    against its exact transient and stationary moments and the SDE's value; noisy GD on
    a d-dimensional quadratic with isotropic, curvature-shaped and streaming-SGD noise
    against exact stationary covariances (Lyapunov equation, d²-dimensional system).
``stochastic_approximation``
    F5b: dropout SGD against the closed-form weighted ridge; GD, penalized GD and noise
    injection on a diagonal factorization against the soft threshold; the imbalance's
    exact recursion and e^{−2η²t} flow.
``label_noise``
    F5c: GD, clean SGD and label-noise SGD (then noiseless GD) on u⊙u − v⊙v from α = 1
    against the exact Q_α limit and the sparse θ*.

References: Mandt, Hoffman & Blei (2017); Robbins & Monro (1951); Polyak & Juditsky (1992);
Srivastava et al. (2014); Wager, Wang & Liang (2013); Bishop (1995); Hoff (2017);
HaoChen, Kale, Lee & Ma (2021); Blanc, Gupta, Valiant & Valiant (2020).
"""

#: The family's section title in the report.
TITLE = "F5. Noise: OU fluctuations, stochastic approximation, label noise"
