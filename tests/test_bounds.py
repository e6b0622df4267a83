"""Unit tests of the bounds family (F4): gradients, KL, kl-inverse, compression, data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from implicit_reg.bounds import compression, data, mlp, norms, pacbayes


def _tiny_net(rng, n_trials=2, n=7, d=5, h=6, k=4):
    w1 = rng.standard_normal((n_trials, h, d))
    w2 = rng.standard_normal((n_trials, k, h))
    x = rng.standard_normal((n_trials, n, d))
    y = rng.integers(0, k, (n_trials, n))
    return w1, w2, x, y


def _finite_difference(f, w, eps=1e-6):
    grad = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        plus, minus = w.copy(), w.copy()
        plus[idx] += eps
        minus[idx] -= eps
        grad[idx] = (f(plus) - f(minus)) / (2 * eps)
    return grad


def test_mlp_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    w1, w2, x, y = _tiny_net(rng)
    _, g1, g2 = mlp.gradients(w1, w2, x, y)
    total = lambda a, b: mlp.gradients(a, b, x, y)[0].sum()  # noqa: E731
    np.testing.assert_allclose(g1, _finite_difference(lambda a: total(a, w2), w1), atol=1e-7)
    np.testing.assert_allclose(g2, _finite_difference(lambda b: total(w1, b), w2), atol=1e-7)


def test_stochastic_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    w1, w2, x, y = _tiny_net(rng)
    s1, s2 = rng.uniform(0.1, 0.5, w1.shape), rng.uniform(0.1, 0.5, w2.shape)
    xi = rng.standard_normal((*x.shape[:2], w1.shape[1]))
    zeta = rng.standard_normal((*x.shape[:2], w2.shape[1]))
    _, grads = pacbayes.stochastic_gradients((w1, w2), (s1, s2), x, y, xi, zeta)

    def loss(a, b, c, d):
        return pacbayes.stochastic_gradients((a, b), (c, d), x, y, xi, zeta)[0].sum()

    args = [w1, w2, s1, s2]
    for i, grad in enumerate(grads):

        def f(v, i=i):
            return loss(*[v if j == i else a for j, a in enumerate(args)])

        np.testing.assert_allclose(grad, _finite_difference(f, args[i]), atol=1e-6)


def test_cross_entropy_and_margins():
    logits = np.array([[[2.0, 0.0, -1.0], [0.0, 3.0, 1.0]]])
    y = np.array([[0, 2]])
    loss, probs = mlp.softmax_cross_entropy(logits, y)
    expected = -np.mean([np.log(probs[0, 0, 0]), np.log(probs[0, 1, 2])])
    np.testing.assert_allclose(loss, [expected])
    np.testing.assert_allclose(probs.sum(-1), 1.0)
    np.testing.assert_allclose(mlp.margins(logits, y), [[2.0, -2.0]])
    np.testing.assert_allclose(mlp.error_rate(logits, y), [0.5])
    np.testing.assert_allclose(mlp.ramp_loss(np.array([-1.0, 0.5, 2.0]), 1.0), [1.0, 0.5, 0.0])


def test_gaussian_kl_closed_form_special_cases():
    rng = np.random.default_rng(2)
    r = 5
    mu0, mu1 = rng.standard_normal(r), rng.standard_normal(r)
    # Isotropic (Dziugaite & Roy 2017; docs/science.md §F4):
    # KL = ½[r σ̄²/σ² + ‖Δ‖²/σ² − r + r ln(σ²/σ̄²)].
    v0, v1 = 0.3, 0.7
    expected = 0.5 * (r * v0 / v1 + np.sum((mu1 - mu0) ** 2) / v1 - r + r * np.log(v1 / v0))
    np.testing.assert_allclose(
        pacbayes.gaussian_kl(mu0, v0 * np.eye(r), mu1, v1 * np.eye(r)), expected
    )
    np.testing.assert_allclose(pacbayes.isotropic_kl(np.sum((mu1 - mu0) ** 2), r, v0, v1), expected)
    # Equal variances: ‖θ̂ − θ₀‖²/(2σ²).
    np.testing.assert_allclose(pacbayes.isotropic_kl(4.0, r, 0.5, 0.5), 4.0)
    # Diagonal posterior against an isotropic prior, as used by the optimized bound.
    s = rng.uniform(0.1, 1.0, r)
    lam = 0.4
    diag = pacbayes.diagonal_kl([mu0[None]], [s[None]], [mu1[None]], np.array([lam]))
    np.testing.assert_allclose(diag, [pacbayes.gaussian_kl(mu0, np.diag(s), mu1, lam * np.eye(r))])
    assert pacbayes.gaussian_kl(mu0, np.diag(s), mu0, np.diag(s)) == pytest.approx(0.0, abs=1e-12)


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(3)
    r = 3
    a = rng.standard_normal((r, r))
    cov0 = a @ a.T + 0.5 * np.eye(r)
    b = rng.standard_normal((r, r))
    cov1 = b @ b.T + 0.5 * np.eye(r)
    mu0, mu1 = rng.standard_normal(r), rng.standard_normal(r)

    def logpdf(z, mu, cov):
        diff = z - mu
        sol = np.linalg.solve(cov, diff.T).T
        return -0.5 * (np.sum(diff * sol, 1) + np.linalg.slogdet(cov)[1] + r * np.log(2 * np.pi))

    z = rng.multivariate_normal(mu0, cov0, 400_000)
    mc = np.mean(logpdf(z, mu0, cov0) - logpdf(z, mu1, cov1))
    exact = pacbayes.gaussian_kl(mu0, cov0, mu1, cov1)
    assert mc == pytest.approx(exact, rel=0.02)


@pytest.mark.parametrize("q", [0.0, 0.01, 0.2, 0.5, 0.9])
@pytest.mark.parametrize("c", [1e-4, 0.01, 0.3, 2.0])
def test_kl_inverse(q, c):
    p = float(pacbayes.kl_inverse_upper(q, c))
    assert q <= p <= 1.0
    if p < 1.0 - 1e-9:
        assert pacbayes.binary_kl(q, p) == pytest.approx(c, rel=1e-8, abs=1e-12)
        ref = brentq(lambda t: pacbayes.binary_kl(q, t) - c, q, 1.0 - 1e-15, xtol=1e-15)
        assert p == pytest.approx(ref, abs=1e-10)
        assert p >= ref - 1e-15  # conservative side of the bracket
    if q == 0.0:
        assert p == pytest.approx(1.0 - np.exp(-c), rel=1e-9)


def test_kl_inverse_is_tighter_than_pinsker():
    q, c = np.linspace(0, 0.9, 10), 0.05
    assert np.all(pacbayes.kl_inverse_upper(q, c) <= q + np.sqrt(c / 2) + 1e-12)


def test_pacbayes_bound_formulas():
    m, kl, delta = 1000, 50.0, 0.05
    assert pacbayes.mcallester_bound(0.1, kl, m, delta) == pytest.approx(
        0.1 + np.sqrt((kl + np.log(2 * m / delta)) / (2 * (m - 1)))
    )
    klb = pacbayes.kl_form_bound(0.1, kl, m, delta)
    assert pacbayes.binary_kl(0.1, klb) == pytest.approx((kl + np.log(2 * np.sqrt(m) / delta)) / m)


def test_gibbs_error_zero_variance_is_deterministic_error():
    rng = np.random.default_rng(4)
    w1, w2, x, y = _tiny_net(rng, n=50)
    err, n_draws = pacbayes.gibbs_error((w1, w2), (0.0, 0.0), x, y, 3, rng)
    _, logits = mlp.forward(w1, w2, x)
    np.testing.assert_allclose(err, mlp.error_rate(logits, y))
    assert n_draws == 150


def test_gibbs_error_local_reparameterization_matches_weight_sampling():
    rng = np.random.default_rng(5)
    w1, w2, x, y = _tiny_net(rng, n_trials=1, n=3, d=4, h=5, k=3)
    sigma2 = 0.5
    err, _ = pacbayes.gibbs_error((w1, w2), (sigma2, sigma2), x, y, 20_000, rng)
    # Direct sampling of whole weight matrices.
    draws = 20_000
    e1 = w1 + np.sqrt(sigma2) * rng.standard_normal((draws, *w1.shape[1:]))
    e2 = w2 + np.sqrt(sigma2) * rng.standard_normal((draws, *w2.shape[1:]))
    _, logits = mlp.forward(e1, e2, x[0])
    direct = np.mean(logits.argmax(-1) != y[0])
    assert err[0] == pytest.approx(direct, abs=0.01)


def test_truncation_and_compression_terms():
    rng = np.random.default_rng(6)
    w = rng.standard_normal((2, 8, 5))
    s = np.linalg.svd(w, compute_uv=False)
    for r in range(1, 4):  # r(a + b) < ab: stored as factors, error s_{r+1}
        approx = compression.truncate(w, r, 64)
        np.testing.assert_allclose(compression.spectral_norm(w - approx), s[:, r], rtol=1e-10)
    # From r = 4 on the factors cost more than the matrix, which is stored whole.
    np.testing.assert_allclose(compression.truncate(w, 4, 64), w)
    assert compression.stored_parameters((8, 5), 2) == 26
    assert compression.stored_parameters((8, 5), 4) == 40
    a = compression.count_term(100, 16, 500, 10, 0.05)
    assert a == pytest.approx(np.sqrt((1600 * np.log(2) + np.log(10 / 0.05)) / 1000))


def test_output_distance_bounds_actual_distance():
    rng = np.random.default_rng(7)
    w1, w2 = rng.standard_normal((1, 12, 6)), rng.standard_normal((1, 3, 12))
    c1, c2 = compression.truncate(w1, 2, 16), compression.truncate(w2, 1, 16)
    bound = compression.output_distance([w1, w2], [c1, c2])
    x = rng.standard_normal((5000, 6))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    _, f = mlp.forward(w1, w2, x)
    _, g = mlp.forward(c1, c2, x)
    assert np.linalg.norm(f - g, axis=-1).max() <= bound[0]


def test_compression_bound_picks_minimum_over_ranks():
    rng = np.random.default_rng(8)
    layers = [rng.standard_normal((2, 10, 6)), rng.standard_normal((2, 3, 10))]
    train = np.full((2, 2), 0.1)
    cb = compression.compression_bound(layers, train, beta=[1.0, 0.5], m=1000, bits=16, delta=0.05)
    total = cb.count[None, None] + cb.approx
    np.testing.assert_allclose(cb.bound, 0.1 + total.min(axis=2))
    assert cb.approx.shape == (2, 2, 6)
    assert np.all(np.diff(cb.count) >= 0)  # A_r grows with r


def test_norms():
    w = np.array([[[3.0, 4.0], [0.0, 0.0]]])
    np.testing.assert_allclose(norms.frobenius_norm(w), [5.0])
    np.testing.assert_allclose(norms.spectral_norm(w), [5.0])
    np.testing.assert_allclose(norms.norm_21(w), [5.0])
    comp = norms.frobenius_complexity([w, w], 100)
    assert comp[0] >= 25 * (np.sqrt(4 * np.log(2)) + 1) / 10


def test_data_split_and_corruptions():
    digits = data.load_split(1000, 0)
    assert digits.x_train.shape == (1000, 64) and digits.x_test.shape == (797, 64)
    again = data.load_split(1000, 0)
    np.testing.assert_array_equal(digits.y_train, again.y_train)
    rng = np.random.default_rng(9)
    x, y = data.corrupted_training_set(digits, 0.5, 3, 0.3, rng)
    assert x.shape == (3, 1000, 64) and y.shape == (3, 1000)
    np.testing.assert_allclose(np.linalg.norm(x, axis=-1), 1.0, rtol=1e-5)
    changed = (y != digits.y_train).mean()
    assert changed == pytest.approx(0.5 * 0.9, abs=0.03)
    _, y0 = data.corrupted_training_set(digits, 0.0, 2, 0.3, rng)
    np.testing.assert_array_equal(y0[1], digits.y_train)
    for variant in data.VARIANTS:
        xv, yv = data.variant_training_set(digits, variant, 2, 0.3, rng)
        assert xv.shape == (2, 1000, 64) and yv.shape == (2, 1000)
    _, ya = data.variant_training_set(digits, "half_adversarial", 2, 0.3, rng)
    assert (ya != digits.y_train).mean() == pytest.approx(0.5)
    with pytest.raises(ValueError):
        data.variant_training_set(digits, "nope", 1, 0.3, rng)


def test_training_reaches_zero_error_and_stops():
    rng = np.random.default_rng(10)
    digits = data.load_split(200, 0)
    x, y = data.corrupted_training_set(digits, 0.0, 2, 0.3, rng)
    init = mlp.init_weights(rng, 2, 64, 64, 10)
    res = mlp.train(
        *init,
        x,
        y,
        data.features(digits.x_test, 0.3),
        digits.y_test,
        lr=1.0,
        batch_size=20,
        checkpoints=np.array([0, 1, 10, 100]),
        stop_loss=0.05,
        rng=rng,
    )
    assert np.all(res.train_error[-1] == 0) and np.all(res.train_loss[-1] <= 0.05)
    assert np.all(res.epochs_trained < 100) and not res.diverged.any()
    assert res.train_error.shape == (4, 2)


def test_training_divergence_is_recorded():
    rng = np.random.default_rng(11)
    digits = data.load_split(100, 0)
    x, y = data.corrupted_training_set(digits, 1.0, 2, 0.3, rng)
    init = mlp.init_weights(rng, 2, 64, 32, 10)
    res = mlp.train(
        *init,
        x,
        y,
        data.features(digits.x_test, 0.3),
        digits.y_test,
        lr=1e30,
        batch_size=0,
        checkpoints=np.array([0, 1, 5]),
        stop_loss=0.01,
        rng=rng,
    )
    assert res.diverged.all()
    assert np.isfinite(res.w1).all() and np.isfinite(res.train_loss).all()


def test_split_sample_is_a_disjoint_partition():
    rng = np.random.default_rng(12)
    prior_idx, bound_idx = pacbayes.split_sample(11, 0.5, 3, rng)
    assert prior_idx.shape == (3, 6) and bound_idx.shape == (3, 5)
    for a, b in zip(prior_idx, bound_idx, strict=True):
        assert not set(a) & set(b)
        np.testing.assert_array_equal(np.sort(np.concatenate([a, b])), np.arange(11))
    assert not np.array_equal(prior_idx[0], prior_idx[1])  # a fresh split per trial
    with pytest.raises(ValueError):
        pacbayes.split_sample(10, 0.01, 1, rng)


def _datadep_setup():
    from implicit_reg.bounds import experiments

    digits = data.load_split(200, 0)
    params = {
        "lr": 1.0,
        "batch_size": 20,
        "n_epochs": 30,
        "stop_loss": 0.05,
        "mc_samples": 2,
        "delta": 0.05,
        "delta_mc": 0.01,
        "posterior": {
            "steps": 0,
            "lr": 0.003,
            "batch_size": 50,
            "prior_sigma_min": 0.001,
            "prior_sigma_max": 1.0,
            "prior_grid_size": 20,
            "datadep_fraction": 0.5,
            "datadep_sigma": 0.01,
            "datadep_steps": 20,
            "datadep_lr": 0.0003,
        },
    }
    x, y = data.corrupted_training_set(digits, 0.0, 2, 0.3, np.random.default_rng(13))
    init = mlp.init_weights(np.random.default_rng(14), 2, 64, 32, 10)
    x_test = data.features(digits.x_test, 0.3)
    return experiments, params, init, x, y, x_test, digits.y_test


def test_datadep_prior_never_sees_s_bound():
    experiments, params, init, x, y, x_test, y_test = _datadep_setup()
    first = experiments.datadep_bound(params, init, x, y, x_test, y_test, np.random.default_rng(0))
    rows = np.arange(2)[:, None]
    for a, b in zip(first.prior_idx, first.bound_idx, strict=True):
        assert not set(a) & set(b) and len(a) + len(b) == 200
    assert first.bound.train_gibbs.shape == (2,)
    # Rewrite S_bound completely: the prior (split and trained mean) must not change.
    x2, y2 = x.copy(), y.copy()
    x2[rows, first.bound_idx] = x2[rows, first.bound_idx][:, ::-1] * -1.0
    y2[rows, first.bound_idx] = (y2[rows, first.bound_idx] + 3) % 10
    # The job's generator has advanced by a data-dependent amount (as after training on
    # the whole sample, whose stopping epoch depends on S_bound); the prior's generator
    # is spawned from the seed sequence and must not notice.
    rng = np.random.default_rng(0)
    rng.random(int(y2.sum()))
    second = experiments.datadep_bound(params, init, x2, y2, x_test, y_test, rng)
    np.testing.assert_array_equal(second.prior_idx, first.prior_idx)
    np.testing.assert_array_equal(second.bound_idx, first.bound_idx)
    for w_a, w_b in zip(first.prior_weights, second.prior_weights, strict=True):
        np.testing.assert_array_equal(w_a, w_b)
    # ... while the certificate, computed on S_bound, does see the change.
    assert not np.array_equal(first.bound.train_gibbs, second.bound.train_gibbs)


def test_datadep_bound_above_test_gibbs_error_and_below_chance():
    experiments, params, init, x, y, x_test, y_test = _datadep_setup()
    dd = experiments.datadep_bound(params, init, x, y, x_test, y_test, np.random.default_rng(1))
    opt = dd.bound
    assert np.all(opt.bound >= opt.test_gibbs)
    assert np.all(opt.bound >= opt.train_gibbs)
    assert np.all(opt.bound < 0.9)  # nonvacuous: below chance even with m_b = 100
    # The certificate is the kl form on S_bound (m_b = 100) with the Monte Carlo term.
    lam_grid = pacbayes.prior_grid(0.001, 1.0, 20)
    upper = pacbayes.mc_upper_limit(opt.train_gibbs, 2 * 100, 0.01)
    np.testing.assert_allclose(
        opt.bound, pacbayes.kl_form_bound(upper, opt.kl, 100, 0.05 / len(lam_grid))
    )
