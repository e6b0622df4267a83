"""implicit_reg.compiled: a compiled loop computes what the same loop computes in Python."""

import numpy as np

from implicit_reg.compiled import compiled


@compiled
def running_recursion(x0: float, a: float, noise: np.ndarray) -> np.ndarray:
    """x_{k+1} = a x_k + noise_k, every iterate (a scalar AR(1) recursion)."""
    out = np.empty(noise.size + 1)
    out[0] = x0
    for k in range(noise.size):
        out[k + 1] = a * out[k] + noise[k]
    return out


def test_compiled_loop_equals_interpreted_loop_bit_for_bit():
    noise = np.random.default_rng(0).standard_normal(1000)
    fast = running_recursion(0.3, 0.97, noise)
    slow = running_recursion.py_func(0.3, 0.97, noise)
    assert np.array_equal(fast, slow)


def test_compiled_loop_follows_numpy_on_division_by_zero():
    @compiled
    def ratio(a, b):
        return a / b

    assert np.isinf(ratio(1.0, 0.0))
