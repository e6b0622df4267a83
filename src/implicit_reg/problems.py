"""Data generators and constants shared by several families.

A family's own generators live in its ``data.py``; the ones here are drawn by more than
one family (Gaussian regression: risk, noise, dynamics; sparse regression: diagonal,
noise; the sphere: dynamics; random rotations: margin, noise, dynamics), so that no
family imports another family's experiments. Each draws from the generator it is given,
in the order its docstring states: the order is part of every table's seed.
"""

from __future__ import annotations

import numpy as np

#: A simulated iterate with an entry beyond this magnitude is recorded as diverged (far
#: above any value a converging run takes, far below float64's overflow at 1.8e308).
DIVERGENCE_LIMIT = 1e100


def gaussian_regression(
    rng: np.random.Generator, n_trials: int, n: int, d: int, noise_std: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X ~ N(0, I_d)`` rows, ``β* ~ N(0, I/d)``, ``y = Xβ* + σε`` for each trial.

    Draws, in this order: X, β*, ε.

    Returns
    -------
    X : ndarray, shape (trials, n, d)
    y : ndarray, shape (trials, n)
    beta_star : ndarray, shape (trials, d)
    """
    X = rng.standard_normal((n_trials, n, d))
    beta_star = rng.standard_normal((n_trials, d)) / np.sqrt(d)
    y = np.einsum("tnd,td->tn", X, beta_star) + noise_std * rng.standard_normal((n_trials, n))
    return X, y, beta_star


def sparse_regression(
    rng: np.random.Generator, n_trials: int, n: int, d: int, r: int, noise_std: float
):
    """Gaussian design x ~ N(0, I_d) and an r-sparse θ* with entries ±1/√r.

    Draws, in this order: X, the supports (uniform, via argsort of uniforms), the signs,
    the label noise.

    Returns
    -------
    X : ndarray, shape (trials, n, d)
    theta_star : ndarray, shape (trials, d)
        Support drawn uniformly per trial, signs uniform.
    y : ndarray, shape (trials, n)
        Xθ* + noise_std·N(0, 1).

    References
    ----------
    docs/science.md §F3a (data); Woodworth et al. (2020), §5.
    """
    X = rng.standard_normal((n_trials, n, d))
    theta_star = np.zeros((n_trials, d))
    support = np.argsort(rng.random((n_trials, d)), axis=1)[:, :r]
    signs = rng.choice([-1.0, 1.0], size=(n_trials, r))
    np.put_along_axis(theta_star, support, signs / np.sqrt(r), axis=1)
    y = np.einsum("tnd,td->tn", X, theta_star) + noise_std * rng.standard_normal((n_trials, n))
    return X, theta_star, y


def sphere(rng: np.random.Generator, shape: tuple[int, ...], radius: float = 1.0) -> np.ndarray:
    """Uniform points on the sphere of the given radius in the last axis of ``shape``.

    ``radius · g/‖g‖`` for a standard normal ``g`` (rotation invariance of the Gaussian).
    """
    v = rng.standard_normal(shape)
    return radius * v / np.linalg.norm(v, axis=-1, keepdims=True)


def random_rotation(rng: np.random.Generator, d: int, n_trials: int | None = None) -> np.ndarray:
    """Haar-distributed d×d orthogonal matrices: ``Q`` of ``G = QR`` with ``diag(R) > 0``.

    Parameters
    ----------
    rng : numpy.random.Generator
    d : int
    n_trials : int, optional
        A leading trial axis (one independent matrix per trial); none when omitted.

    Returns
    -------
    ndarray, shape (d, d) or (n_trials, d, d)

    References
    ----------
    Mezzadri (2007), "How to generate random matrices from the classical compact groups".
    """
    shape = (d, d) if n_trials is None else (n_trials, d, d)
    q, r = np.linalg.qr(rng.standard_normal(shape))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
