"""Compression bound (Arora et al. 2018) for ``f(x) = W_N σ(… σ(W₁x))``.

Compress the trained network ``ĥ`` into ``h_r ∈ H_r``: each layer is replaced by its
rank-``min(r, rank)`` truncated SVD, stored as two factors whose entries are rounded to a
``b``-bit floating-point format (IEEE half, single or double precision: a fixed code of
``2^b`` values, chosen before seeing data). Then

- ``|H_r| ≤ 2^{b·p_r}`` with ``p_r`` the number of stored parameters, so Hoeffding and a
  union bound over ``H_r`` and over the ``R`` ranks give, for a loss in [0, 1],
  ``L_D(h) − L_S(h) ≤ A_r = √((b·p_r·ln 2 + ln(R/δ)) / (2m))`` for all ``h ∈ H_r`` and all r;
- the loss is β-Lipschitz in the network output and ``‖ĥ(x) − h_r(x)‖ ≤ d_r`` on the unit
  ball, so ``L_D(ĥ) ≤ L_D(h_r) + βd_r ≤ L_S(h_r) + A_r + βd_r ≤ L_S(ĥ) + A_r + B_r`` with
  ``B_r = 2βd_r``;
- ``d_r`` by telescoping over the layers (σ 1-Lipschitz, σ(0) = 0,
  ``‖x‖ ≤ 1``): ``d_r ≤ Σ_n (∏_{j>n} ‖W'_j‖₂) ‖W_n − W'_n‖₂ (∏_{j<n} ‖W_j‖₂)``. For an exact
  truncation ``‖W'_j‖₂ = ‖W_j‖₂`` and ``‖W_n − W'_n‖₂ = s_{r+1}(W_n)`` (Eckart–Young);
  here the norms of the actually stored (rounded) matrices are used, so rounding is
  accounted for.

Final bound: ``L_D(ĥ) ≤ L_S(ĥ) + min_r (A_r + B_r)`` with probability ≥ 1 − δ.

References
----------
Arora, Ge, Neyshabur, Zhang (2018), "Stronger generalization bounds for deep nets via a
compression approach" (rank-r truncation, b-bit parameters, union bound);
docs/science.md §F4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implicit_reg.bounds.norms import spectral_norm

FLOAT_FORMATS = {16: np.float16, 32: np.float32, 64: np.float64}


def stored_parameters(shape: tuple[int, int], rank: int) -> int:
    """Parameters stored for a rank-``rank`` ``a × b`` matrix: ``min(rank·(a + b), a·b)``.

    A rank-r matrix is stored as factors ``(a × r)(r × b)``; once that costs more than the
    full matrix, the full matrix is stored instead.
    """
    a, b = shape
    return int(min(rank * (a + b), a * b))


def count_term(n_params, bits: int, m: int, n_ranks: int, delta: float):
    """``A_r = √((b·p_r·ln 2 + ln(R/δ)) / (2m))`` (Arora et al. 2018)."""
    log_size = bits * np.asarray(n_params) * np.log(2.0)
    return np.sqrt((log_size + np.log(n_ranks / delta)) / (2.0 * m))


def truncate(w: np.ndarray, rank: int, bits: int, svd=None) -> np.ndarray:
    """Best rank-``rank`` approximation of each matrix, stored in ``bits``-bit floats.

    ``W ≈ (U_r S_r^{1/2}) (S_r^{1/2} V_rᵀ)``, each factor rounded to the format; when the
    factors would cost more than the matrix, the matrix itself is rounded.

    Parameters
    ----------
    w : ndarray, shape (T, a, b)
    rank, bits : int
    svd : tuple, optional
        ``numpy.linalg.svd(w, full_matrices=False)`` if already computed.

    Returns
    -------
    ndarray, shape (T, a, b), float64
    """
    fmt = FLOAT_FORMATS[bits]
    a, b = w.shape[1:]
    # Weights beyond the format's range round to ±inf: the distance is then infinite.
    with np.errstate(over="ignore", invalid="ignore"):
        if rank * (a + b) >= a * b:
            return w.astype(fmt).astype(np.float64)
        u, s, vt = (
            svd if svd is not None else np.linalg.svd(w.astype(np.float64), full_matrices=False)
        )
        root = np.sqrt(s[:, :rank])
        left = (u[:, :, :rank] * root[:, None, :]).astype(fmt).astype(np.float64)
        right = (root[:, :, None] * vt[:, :rank, :]).astype(fmt).astype(np.float64)
        return left @ right


def output_distance(
    layers: list[np.ndarray], compressed: list[np.ndarray], layer_norms=None
) -> np.ndarray:
    """Bound on ``sup_{‖x‖≤1} ‖f(x) − f'(x)‖`` by telescoping over the layers.

    ``Σ_n (∏_{j>n} ‖W'_j‖₂) ‖W_n − W'_n‖₂ (∏_{j<n} ‖W_j‖₂)`` for a 1-Lipschitz activation
    with σ(0) = 0; ``layers[0]`` is the first layer applied to x. ``layer_norms``, the
    ``‖W_j‖₂`` if already computed.

    Returns
    -------
    ndarray, shape (T,)
    """
    norms = layer_norms or [spectral_norm(w) for w in layers]
    norms_c = [spectral_norm(w) for w in compressed]
    total = 0.0
    for n, (w, wc) in enumerate(zip(layers, compressed, strict=True)):
        after = np.prod(norms_c[n + 1 :], axis=0) if n + 1 < len(layers) else 1.0
        before = np.prod(norms[:n], axis=0) if n > 0 else 1.0
        total = total + after * spectral_norm(w.astype(np.float64) - wc) * before
    return total


def truncation_distances(layers: list[np.ndarray], bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``d_r`` (the output-distance bound of `output_distance`) for every rank r = 1 … R.

    Returns
    -------
    ranks : ndarray of int, shape (R,)
    distance : ndarray, shape (T, R)
    """
    n_ranks = max(min(w.shape[1:]) for w in layers)
    ranks = np.arange(1, n_ranks + 1)
    svds = [np.linalg.svd(w.astype(np.float64), full_matrices=False) for w in layers]
    layer_norms = [spectral_norm(w) for w in layers]
    distance = np.stack(
        [
            output_distance(
                layers,
                [
                    truncate(w, min(r, *w.shape[1:]), bits, svd)
                    for w, svd in zip(layers, svds, strict=True)
                ],
                layer_norms,
            )
            for r in ranks
        ],
        axis=1,
    )
    return ranks, distance


@dataclass(frozen=True)
class CompressionBound:
    """Compression bound per trial and margin.

    Attributes
    ----------
    ranks : ndarray of int, shape (R,)
    count : ndarray, shape (R,)
        ``A_r`` (the same for every trial).
    approx : ndarray, shape (T, K, R)
        ``B_r = 2β_k d_r`` for each loss (Lipschitz constant β_k).
    bound : ndarray, shape (T, K)
        ``L_S(ĥ) + min_r (A_r + B_r)``.
    best_rank : ndarray of int, shape (T, K)
    """

    ranks: np.ndarray
    count: np.ndarray
    approx: np.ndarray
    bound: np.ndarray
    best_rank: np.ndarray


def compression_bound(
    layers: list[np.ndarray],
    train_loss: np.ndarray,
    *,
    beta,
    m: int,
    bits: int,
    delta: float,
) -> CompressionBound:
    """``L_S(ĥ) + min_r (A_r + B_r)`` over ``r = 1 … R`` (Arora et al. 2018).

    Evaluated for K losses at once (e.g. ramp losses at K margins); ``delta`` is the
    confidence of each of them (divide by K beforehand for a union bound over the K).

    Parameters
    ----------
    layers : list of ndarray, shapes (T, a_n, b_n)
        Weight matrices, first layer first.
    train_loss : ndarray, shape (T, K)
        Training loss of ``ĥ`` for each β_k-Lipschitz loss with values in [0, 1].
    beta : ndarray, shape (K,)
        Lipschitz constants of the losses in the network output (Euclidean norm).
    m : int
        Training set size.
    bits : {16, 32, 64}
    delta : float

    Returns
    -------
    CompressionBound
    """
    ranks, distance = truncation_distances(layers, bits)
    n_params = [
        sum(stored_parameters(w.shape[1:], min(r, *w.shape[1:])) for w in layers) for r in ranks
    ]
    count = count_term(np.array(n_params), bits, m, len(ranks), delta)
    beta = np.atleast_1d(np.asarray(beta, float))
    approx = 2.0 * beta[None, :, None] * distance[:, None, :]
    total = count[None, None, :] + approx
    best = total.argmin(axis=2)
    return CompressionBound(
        ranks=ranks,
        count=count,
        approx=approx,
        bound=train_loss + np.take_along_axis(total, best[..., None], 2)[..., 0],
        best_rank=ranks[best],
    )
