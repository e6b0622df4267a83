"""The fused posterior step of the optimized PAC-Bayes bound against its numpy passes."""

import numpy as np

from implicit_reg.bounds import pacbayes


def _numpy_step(theta, grad, diff, s, ratio, weight, adam):
    """The gradient completion and `_Adam.step` as separate float32 numpy passes."""
    r = s.shape[1]
    grad_mu, grad_rho = grad[:, :r], grad[:, r:]
    diff = diff * ratio[:, None]
    grad_mu += diff
    grad_rho *= 2.0
    grad_rho += ratio[:, None]
    grad_rho *= s
    grad_rho -= weight[:, None]
    adam.step(theta, grad)


def test_fused_posterior_step_equals_the_numpy_passes_bit_for_bit():
    rng = np.random.default_rng(4)
    trials, r = 3, 257
    theta = rng.standard_normal((trials, 2 * r)).astype(np.float32)
    grad = rng.standard_normal((trials, 2 * r)).astype(np.float32)
    diff = rng.standard_normal((trials, r)).astype(np.float32)
    s = rng.uniform(1e-4, 1e-2, (trials, r)).astype(np.float32)
    ratio = rng.uniform(0.1, 10, trials).astype(np.float32)
    weight = rng.uniform(1e-3, 1e-2, trials).astype(np.float32)
    old, new = pacbayes._Adam(theta.shape, 3e-3), pacbayes._Adam(theta.shape, 3e-3)
    theta_old, theta_new = theta.copy(), theta.copy()
    for _ in range(5):
        g = grad.copy()
        _numpy_step(theta_old, g, diff, s, ratio, weight, old)
        g = grad.copy()
        coef, epsilon = new.advance()
        args = (np.float32(new.beta1), np.float32(new.beta2), float(epsilon), float(coef))
        pacbayes.posterior_adam_step(theta_new, g, diff, s, ratio, weight, new.m, new.v, *args)
    np.testing.assert_array_equal(theta_new, theta_old)
    np.testing.assert_array_equal(new.m, old.m)
    np.testing.assert_array_equal(new.v, old.v)
