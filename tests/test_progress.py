"""The longest simulations log progress while they run, not only a final line."""

from __future__ import annotations

import logging
import re

import numpy as np

from implicit_reg import progress
from implicit_reg.dynamics.experiments import simulate_lazy_training
from implicit_reg.risk.experiments import simulate_double_descent


def progress_lines(caplog, monkeypatch, simulate, params) -> list[str]:
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    with caplog.at_level(logging.INFO, logger=progress.LOGGER.name):
        simulate(params, np.random.default_rng(0))
    return [r.getMessage() for r in caplog.records if r.name == progress.LOGGER.name]


def test_double_descent_logs_trials_done(caplog, monkeypatch):
    params = {
        "n_samples": 20,
        "noise_stds": [0.5],
        "gamma": [0.5, 1.5, 2.0],
        "signal_norm": 1.0,
        "ridge_lambdas": [1.0],
        "n_trials": 4,
    }
    lines = progress_lines(caplog, monkeypatch, simulate_double_descent, params)
    assert any(line.startswith("double descent: 8/12 trials (67%)") for line in lines), lines


def test_lazy_training_logs_steps_per_width(caplog, monkeypatch):
    params = {
        "n_samples": 6,
        "n_features": 3,
        "n_test": 5,
        "widths": [8, 16],
        "n_trials": 2,
        "n_steps": 20,
        "step_fraction": 0.5,
        "n_checkpoints": 5,
    }
    lines = progress_lines(caplog, monkeypatch, simulate_lazy_training, params)
    for width in (8, 16):
        done = [
            int(match.group(1))
            for line in lines
            if (match := re.match(rf"gradient descent, width {width}: (\d+)/20 steps", line))
        ]
        assert any(0 < steps < 20 for steps in done), lines  # reports while it runs
