"""Bounds family: claims logic, config checks and costs, artifacts, exactness of the fast paths."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from implicit_reg.bounds import claims, data, experiments, mlp, pacbayes, sampling
from implicit_reg.bounds.config import COSTS
from implicit_reg.bounds.config import problems as bounds_problems
from implicit_reg.claims import family_claims
from implicit_reg.workflow.configcheck import filled_section

ROOT = Path(__file__).resolve().parents[1]


def _smoke() -> dict:
    return yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())["bounds"]


# --------------------------------------------------------------------------------------
# Data and samplers


def test_digits_arrays_match_scikit_learn():
    from sklearn.datasets import load_digits

    pixels, labels = data.digits_arrays()
    reference = load_digits()
    np.testing.assert_array_equal(pixels, reference.data)
    np.testing.assert_array_equal(labels, reference.target)
    train, test = data.split_indices(1000, 0)
    assert len(np.union1d(train, test)) == data.N_IMAGES and not set(train) & set(test)
    digits = data.load_split(1000, 0)
    np.testing.assert_array_equal(digits.x_train, reference.data[train] / data.PIXEL_MAX)


@pytest.mark.parametrize("exact_tails", [True, False])
def test_box_muller_draws_are_standard_normal(exact_tails):
    rng = np.random.default_rng(0)
    out = np.empty((3, 200_001), np.float32)  # odd size: the last pair is cut
    z = sampling.standard_normal(rng, out.shape, out=out, exact_tails=exact_tails)
    assert z is out and z.dtype == np.float32
    flat = z.ravel().astype(float)
    assert abs(flat.mean()) < 4 / np.sqrt(flat.size)
    assert flat.var() == pytest.approx(1.0, abs=6 * np.sqrt(2 / flat.size))
    assert stats.kstest(flat, "norm").pvalue > 1e-3
    # The two halves (cosine and sine) are independent of each other.
    half = flat.size // 2
    assert abs(np.corrcoef(flat[:half], flat[half : 2 * half])[0, 1]) < 0.01


# --------------------------------------------------------------------------------------
# Exactness of the fast paths


def _net(rng, n_trials=3, h=16, n=40):
    w1, w2 = mlp.init_weights(rng, n_trials, 64, h, data.N_CLASSES)
    x = data.features(rng.random((n_trials, n, 64)), 0.3)
    y = rng.integers(0, data.N_CLASSES, (n_trials, n))
    return w1, w2, x, y


def test_evaluate_equals_the_stacked_forward_pass():
    w1, w2, x, y = _net(np.random.default_rng(1))
    error, loss = mlp.evaluate(w1, w2, x, y)
    _, logits = mlp.forward(w1, w2, x)
    np.testing.assert_array_equal(error, mlp.error_rate(logits, y))
    np.testing.assert_allclose(loss, mlp.softmax_cross_entropy(logits, y)[0], rtol=1e-6)


def test_may_stop_rules_out_only_trials_that_cannot_stop():
    rng = np.random.default_rng(2)
    w1, w2, x, y = _net(rng, n_trials=6)
    # Labels the networks predict: 0 errors; small outputs: loss about ln 10 per example.
    _, logits = mlp.forward(w1, w2, x)
    y_fit = logits.argmax(-1)
    for labels, stop_loss in ((y, 0.02), (y_fit, 0.02), (y_fit, 10.0), (y, 10.0)):
        err, loss = mlp.evaluate(w1, w2, x, labels)
        maybe = mlp.may_stop(w1, w2, x, labels, stop_loss, first=2, chunk=7)
        assert np.all(maybe[(err == 0) & (loss <= stop_loss)])
    assert not mlp.may_stop(w1, w2, x, y, 0.02, chunk=7).any()  # misclassified examples
    assert mlp.may_stop(w1, w2, x, y_fit, 10.0, chunk=7).all()


def test_chunk_bounds_grow_and_cover_every_example_once():
    assert mlp.chunk_bounds(100, 16, 64) == [(0, 16), (16, 48), (48, 100)]
    assert mlp.chunk_bounds(5, 16, 64) == [(0, 5)]
    for n, first, largest in ((1, 1, 1), (37, 3, 8), (1500, 16, 128)):
        bounds = mlp.chunk_bounds(n, first, largest)
        starts, stops = zip(*bounds, strict=True)
        assert starts[0] == 0 and stops[-1] == n and list(starts[1:]) == list(stops[:-1])
        assert max(b - a for a, b in bounds) <= largest


def test_training_with_the_screen_equals_evaluating_every_epoch(monkeypatch):
    params = {**_smoke()["corruption"], "width": 32, "n_epochs": 400, "n_checkpoints": 3}

    def run():
        def make_set(digits, center, rng):
            return data.corrupted_training_set(digits, 0.5, 2, center, rng)

        return experiments.train_networks(params, np.random.default_rng(3), make_set, 2)[-1]

    screened = run()
    monkeypatch.setattr(mlp, "may_stop", lambda w1, *a, **k: np.ones(w1.shape[0], bool))
    full = run()
    np.testing.assert_array_equal(screened.epochs_trained, full.epochs_trained)
    np.testing.assert_array_equal(screened.w1, full.w1)
    np.testing.assert_array_equal(screened.train_loss, full.train_loss)
    assert np.all(screened.train_error[-1] == 0) and screened.epochs_trained.max() < 400


def test_adam_is_the_textbook_update():
    rng = np.random.default_rng(4)
    theta = rng.standard_normal((3, 50)).astype(np.float32)
    reference = theta.astype(float).copy()
    adam = pacbayes._Adam(theta.shape, 0.01)
    m = v = 0.0
    for t in range(1, 30):
        g = rng.standard_normal(theta.shape).astype(np.float32)
        adam.step(theta, g)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g.astype(float) ** 2
        reference -= 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(theta, reference, rtol=1e-4, atol=1e-6)


def test_kl_from_sums_matches_the_gaussian_kl():
    rng = np.random.default_rng(5)
    mu, mu0 = rng.standard_normal((1, 4, 3)), rng.standard_normal((1, 4, 3))
    s = rng.uniform(0.1, 1.0, (1, 4, 3))
    for lam in (0.2, 1.3):
        expected = pacbayes.gaussian_kl(
            mu.ravel(), np.diag(s.ravel()), mu0.ravel(), lam * np.eye(12)
        )
        sums = pacbayes.kl_sums([mu], [s], [mu0])
        assert pacbayes.kl_from_sums(*sums, lam)[0] == pytest.approx(expected, rel=1e-12)


def test_uniform_label_ramp_loss_is_the_mean_over_labels():
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((2, 5, 4))
    gamma = np.array([0.5, 2.0])
    got = mlp.uniform_label_ramp_loss(logits, gamma)
    for label in range(4):
        y = np.full((2, 5), label)
        margin = mlp.margins(logits, y)[..., None]
        got = got - mlp.ramp_loss(margin, gamma) / 4
    np.testing.assert_allclose(got, 0.0, atol=1e-12)


def test_population_loss_is_the_error_under_label_noise():
    rng = np.random.default_rng(7)
    pred = rng.integers(0, 10, 200_000)
    y = np.where(rng.random(pred.size) < 0.7, pred, rng.integers(0, 10, pred.size))
    clean = np.mean(pred != y)
    p = 0.4
    noisy = np.where(rng.random(y.size) < p, rng.integers(0, 10, y.size), y)
    expected = experiments.population_loss(clean, experiments.UNIFORM_LABEL_ERROR, p)
    assert np.mean(pred != noisy) == pytest.approx(expected, abs=0.005)


# --------------------------------------------------------------------------------------
# Claims logic on synthetic tables


def _final(bounds: dict[float, list[float]], loss: float = 0.3, m: int = 1000) -> pd.DataFrame:
    rows = [
        {"p": p, "pacbayes_kl_bound": b, "pacbayes_kl_population_loss": loss, "n_train": m}
        for p, values in bounds.items()
        for b in values
    ]
    return pd.DataFrame(rows)


def test_bound_above_loss_is_a_claim_only_where_non_vacuous():
    useful = claims.bound_above_loss(_final({0.0: [0.5, 0.6], 1.0: [1.0, 1.0]}), "pacbayes_kl")
    assert useful.kind == "claim" and useful.measured == pytest.approx(0.2) and useful.passed
    # 1 − 1e-8 is closer to 1 than one example (1/m): vacuous, a check.
    vacuous = claims.bound_above_loss(_final({0.0: [1 - 1e-8, 1.0]}), "pacbayes_kl")
    assert vacuous.kind == "check" and vacuous.passed
    wrong = claims.bound_above_loss(_final({0.0: [0.2, 0.25]}), "pacbayes_kl")
    assert wrong.kind == "claim" and not wrong.passed


def test_growth_with_p_is_claimed_over_informative_levels_only():
    rising = _final({0.0: [0.30, 0.32, 0.31], 0.5: [0.60, 0.62, 0.61], 1.0: [1.0, 1.0, 1.0]})
    claim = claims.bound_grows_with_p(rising, "pacbayes_kl")
    assert claim.kind == "claim" and claim.passed and "[1.0]" in claim.statement
    # Saturated beyond p = 0: increments of 1e-11 are not evidence, only a check.
    saturated = _final({0.0: [0.9, 0.91], 0.5: [1 - 1e-11, 1 - 1e-11], 1.0: [1.0, 1.0]})
    check = claims.bound_grows_with_p(saturated, "pacbayes_kl")
    assert check.kind == "check" and check.passed
    # Two informative levels with an increment inside the noise: the claim fails.
    noisy = _final({0.0: [0.30, 0.40, 0.35], 0.5: [0.36, 0.33, 0.39]})
    assert not claims.bound_grows_with_p(noisy, "pacbayes_kl").passed
    # Identical trials a float-rounding step apart do not count as growth.
    flat = _final({0.0: [0.5, 0.5], 0.5: [0.5 + 1e-13, 0.5 + 1e-13]})
    assert not claims.bound_grows_with_p(flat, "pacbayes_kl").passed


def test_jonckheere_terpstra_p_value_is_exact_for_small_samples():
    assert claims.jonckheere_statistic([np.array([1.0, 2.0]), np.array([3.0, 4.0])]) == 4.0
    # Perfect order of 2 levels × 3 trials: 1 of the C(6, 3) = 20 relabellings.
    groups = [np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])]
    assert claims.trend_p_value(groups) == pytest.approx(1 / 20)
    assert claims.trend_p_value(groups[::-1]) == pytest.approx(1.0)


def test_a_significant_decrease_fails_an_overall_trend():
    dip = _final(
        {
            0.0: [0.10, 0.11, 0.10],
            0.25: [0.50, 0.51, 0.50],
            0.5: [0.60, 0.61, 0.60],
            0.75: [0.40, 0.41, 0.40],
        }
    )
    claim = claims.bound_grows_with_p(dip, "pacbayes_kl")
    assert claim.kind == "claim" and claim.measured == 1.0 and not claim.passed
    assert claims.holm_decreases(claims._level_stats(dip, "pacbayes_kl_bound")) == 1


# --------------------------------------------------------------------------------------
# Deliberate bugs make claims fail


def _run_smoke():
    from implicit_reg.bounds.experiments import EXPERIMENTS
    from implicit_reg.experiment import run_experiment

    section = _smoke()
    tables = {}
    for name, spec in section.items():
        tables[name], _ = run_experiment("bounds", name, EXPERIMENTS[name], spec, 0)
    return {c.claim_id: c for c in family_claims("bounds", tables)}


def test_gradient_ascent_fails_the_training_claims(monkeypatch):
    original = mlp.gradients

    def ascent(w1, w2, x, y, work=None, scale=1.0):
        loss, g1, g2 = original(w1, w2, x, y, work, scale)
        return loss, -g1, -g2

    monkeypatch.setattr(mlp, "gradients", ascent)
    result = _run_smoke()
    assert not result["train_error_every_p"].passed
    assert not result["train_error_random_inputs"].passed


def test_prior_trained_on_the_certified_sample_fails_the_bound_claim(monkeypatch):
    original = pacbayes.split_sample

    def leaky(m, fraction, n_trials, rng):
        prior, _ = original(m, fraction, n_trials, rng)
        return prior, prior  # the bug: S_bound = S_prior

    monkeypatch.setattr(pacbayes, "split_sample", leaky)
    result = _run_smoke()
    claim = result["pacbayes_datadep_above_gibbs_error"]
    assert claim.kind == "claim" and not claim.passed


# --------------------------------------------------------------------------------------
# Config checks (one per check) and costs


CHECKS = [
    ("corruption", "n_train", 1790, "bounds.corruption.n_train"),
    ("corruption", "batch_size", 301, "bounds.corruption.batch_size"),
    ("postulates", "n_trials", 1, "bounds.postulates.n_trials"),
    ("corruption", "sigmas", [0.5, 0.2], "bounds.corruption.sigmas"),
    ("corruption", "margins", [1.0, 1.0], "bounds.corruption.margins"),
    ("corruption", "posterior.prior_sigma_min", 2.0, "bounds.corruption.posterior.prior_sigma_min"),
    (
        "corruption",
        "posterior.datadep_fraction",
        0.999,
        "bounds.corruption.posterior.datadep_fraction",
    ),
    (
        "corruption",
        "posterior.datadep_fraction",
        1.5,
        "bounds.corruption.posterior.datadep_fraction",
    ),
    ("corruption", "posterior.batch_size", 200, "bounds.corruption.posterior.batch_size"),
    ("postulates", "posterior.batch_size", 400, "bounds.postulates.posterior.batch_size"),
    ("corruption", "grid.p", [0.0, 0.5], "bounds.corruption.grid.p"),
    ("postulates", "variants", ["true_labels"], "bounds.postulates.variants"),
]


@pytest.mark.parametrize(("experiment", "key", "value", "named"), CHECKS)
def test_bounds_config_check_names_the_key(experiment, key, value, named):
    section = copy.deepcopy(_smoke())
    assert bounds_problems(filled_section("bounds", section)) == []
    node = section[experiment]
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    if key == "posterior.batch_size" and experiment == "postulates":
        section[experiment]["posterior"]["steps"] = 10
    problems = bounds_problems(filled_section("bounds", section))
    assert problems and any(named in message for message in problems), problems


def test_bounds_costs_grow_with_the_work():
    from implicit_reg.grid import grid_points

    for name, spec in _smoke().items():
        _, params = next(grid_points(spec))
        cost = COSTS[name](params)
        assert 0 < cost.memory_bytes < 1e9 and cost.work > 0
        more = copy.deepcopy(params)
        more["posterior"]["steps"] += 1000
        more["n_epochs"] *= 2
        assert COSTS[name](more).work > cost.work


# --------------------------------------------------------------------------------------
# Artifacts: an outsider recomputes the test error from the .npz arrays alone


def test_artifacts_recompute_the_test_error():
    params = {**_smoke()["corruption"], "p": 0.5, "n_epochs": 20}
    params["posterior"] = {**params["posterior"], "steps": 0, "datadep_fraction": 0.0}
    table, arrays = experiments.simulate_corruption(params, np.random.default_rng(8))
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data[arrays["test_index"]] / 16.0 - params["center"]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    hidden = np.maximum(np.einsum("nd,thd->tnh", x, arrays["w1"]), 0)
    logits = np.einsum("tnh,tkh->tnk", hidden, arrays["w2"])
    error = (logits.argmax(-1) != digits.target[arrays["test_index"]]).mean(axis=1)
    final = table[table["section"] == "final"].sort_values("trial")
    np.testing.assert_allclose(error, final["test_error"], atol=2 / len(x))
    changed = arrays["labels"] != digits.target[arrays["train_index"]]
    assert changed.mean() == pytest.approx(0.5 * 0.9, abs=0.08)
    np.testing.assert_array_equal(arrays["column_trial"], np.arange(params["n_trials"]))


def test_claims_of_a_partial_configuration():
    from implicit_reg.bounds.experiments import EXPERIMENTS
    from implicit_reg.experiment import run_experiment

    spec = _smoke()["postulates"]
    trials, _ = run_experiment("bounds", "postulates", EXPERIMENTS["postulates"], spec, 0)
    result = family_claims("bounds", {"postulates": trials})
    ids = {c.claim_id for c in result}
    assert "half_adversarial_test_error_increase" in ids and "train_error_every_p" not in ids
    assert all(c.passed for c in result)
