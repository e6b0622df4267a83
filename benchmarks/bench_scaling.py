"""How each experiment's job time grows with its main size knobs, with fitted exponents.

For every experiment of a base configuration (default ``config/smoke.yaml``), each knob
its cost estimate names as a driver (`implicit_reg.checks.Cost.drivers`, scalar keys
only) is multiplied by 1, 2, 4 and 8 in turn, the other keys held at the base values; one
grid point (the first) is run per setting and timed. The printed exponent is the slope of
log time against log factor fitted over the four points, so that a user can predict a
configuration's cost: time ∝ knob^exponent. Steps, trials and draws should give ≈ 1;
dimensions give up to 2–3 where matrix products or decompositions dominate.

    python benchmarks/bench_scaling.py [--config config/smoke.yaml] [--families risk]
        [--factors 1 2 4 8] [--max-seconds 60]

A setting whose measured time passes ``--max-seconds`` stops that knob's sweep early.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import copy  # noqa: E402
import importlib  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from implicit_reg.checks import COSTS, ConfigError, families  # noqa: E402
from implicit_reg.configcheck import check_config_and_fill, load_config  # noqa: E402
from implicit_reg.grid import grid_points  # noqa: E402
from implicit_reg.seeding import generator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def scaled(value, factor: float):
    """``value × factor``, kept an integer when it was one."""
    return int(round(value * factor)) if isinstance(value, int) else value * factor


def fitted_exponent(factors, seconds) -> tuple[float, float]:
    """Least-squares slope of log(seconds) on log(factor) and its standard error."""
    x, y = np.log(factors), np.log(seconds)
    if len(x) < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(x, y, 1)
    if len(x) < 3:
        return float(slope), float("nan")
    residual = y - (slope * x + intercept)
    se = np.sqrt(residual @ residual / (len(x) - 2) / np.sum((x - x.mean()) ** 2))
    return float(slope), float(se)


def time_point(module, family, name, spec, seed) -> float:
    point, params = next(iter(grid_points(spec)))
    start = time.perf_counter()
    module.EXPERIMENTS[name].simulate(dict(params), generator(seed, family, name, point))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/smoke.yaml")
    parser.add_argument("--families", nargs="*")
    parser.add_argument("--factors", nargs="*", type=float, default=[1, 2, 4, 8])
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    base = load_config(ROOT / args.config)
    print(f"base config: {args.config}; factors {args.factors}")
    print(f"{'experiment':32} {'knob':22} {'seconds at each factor':36} {'exponent':>14}")
    for family in families(base):
        if args.families and family not in args.families:
            continue
        module = importlib.import_module(f"implicit_reg.{family}")
        for name, spec in base[family].items():
            first = dict(next(iter(grid_points(spec)))[1])
            for knob in COSTS[family][name](first).drivers:
                if not isinstance(spec.get(knob), int | float) or isinstance(spec[knob], bool):
                    continue
                factors, seconds = [], []
                for factor in args.factors:
                    trial = copy.deepcopy(base)
                    trial[family] = {name: copy.deepcopy(spec)}
                    trial[family][name][knob] = scaled(spec[knob], factor)
                    trial.setdefault("limits", {})["allow_over_limits"] = True
                    try:
                        check_config_and_fill(trial)
                    except ConfigError as error:
                        print(f"{family}/{name} {knob} × {factor:g}: invalid ({error})")
                        break
                    factors.append(factor)
                    seconds.append(
                        time_point(module, family, name, trial[family][name], base["seed"])
                    )
                    if seconds[-1] > args.max_seconds:
                        break
                slope, se = fitted_exponent(factors, seconds)
                times = " ".join(f"{s:.3g}" for s in seconds)
                print(
                    f"{family + '/' + name:32} {knob:22} {times:36} {slope:6.2f} ± {se:.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
