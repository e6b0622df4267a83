"""The compiled GD sweep of the lazy-training network against its numpy reference."""

import numpy as np
import pytest

from implicit_reg.dynamics import network


def _problem(m, seed=5, trials=2, n=6, d=3):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((trials, m, d))
    a = rng.choice([-1.0, 1.0], size=(trials, m))
    X = rng.standard_normal((trials, n, d))
    return W, a, X, rng.standard_normal((trials, n))


def test_exp_tanh_equals_tanh_to_rounding():
    z = np.concatenate([np.linspace(-25, 25, 10001), [0.0, -0.0, 1e-300, -1e-12]])
    values = np.array([network.exp_tanh(v) for v in z])
    np.testing.assert_allclose(values, np.tanh(z), rtol=0, atol=4e-16)
    assert np.isnan(network.exp_tanh(np.nan))


@pytest.mark.parametrize("m", [7, network.GD_NEURON_BLOCK + 3])
def test_gd_path_equals_numpy_gradient_descent(m):
    """Blocks of `GD_NEURON_BLOCK` neurons (one partial) give the steps of `loss_gradient`."""
    W, a, X, y = _problem(m)
    eta = np.array([0.5, 1.5])
    steps = np.array([0, 3, 40])
    path = network.gd_path(W, a, X, y, X[:, :4], eta, steps)
    Wr, ar = W.copy(), a.copy()
    for _ in range(40):
        grad_W, grad_a, _ = network.loss_gradient(Wr, ar, X, y)
        Wr -= eta[:, None, None] * grad_W
        ar -= eta[:, None] * grad_a
    np.testing.assert_allclose(path.W, Wr, rtol=0, atol=1e-13)
    np.testing.assert_allclose(path.a, ar, rtol=0, atol=1e-13)
    np.testing.assert_allclose(path.train[-1], network.forward(Wr, ar, X), atol=1e-13)


def test_compiled_sweep_equals_its_interpreted_twin():
    W, a, X, y = _problem(9)
    Wt = np.ascontiguousarray(np.swapaxes(W, 1, 2))
    hidden, outputs = np.empty((2, 6, 9)), np.empty((2, 6))
    network.hidden_and_outputs(Wt, a, X, hidden, outputs)
    states = []
    for kernel in (network.gd_steps, network.gd_steps.py_func):
        state = [Wt.copy(), a.copy(), hidden.copy(), outputs.copy()]
        kernel(state[0], state[1], X, y, np.array([0.3, 0.7]), 3.0, 5, state[2], state[3])
        states.append(state)
    for compiled_value, python_value in zip(*states, strict=True):
        np.testing.assert_allclose(compiled_value, python_value, rtol=1e-14, atol=1e-15)
