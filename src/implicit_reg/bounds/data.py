"""The 8×8 digits data set, a fixed split, and the corrupted training sets of Zhang et al.

The images come from scikit-learn's bundled copy of the UCI digits (1,797 images, 64
pixels with intensities 0–16, 10 classes): no download at run time.

Every training set is built for ``n_trials`` trials at once and returned with a leading
trial axis, so the MLP trains all trials together. The test set is always the clean one.

References
----------
Zhang, Bengio, Hardt, Recht, Vinyals (2017), "Understanding deep learning requires
rethinking generalization", §2 (label corruption, random pixels, Gaussian inputs; the
four postulates); docs/science.md §F4.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from implicit_reg.bounds import N_IMAGES, VARIANTS

N_CLASSES = 10
PIXEL_MAX = 16.0

#: Variants whose training images are (partly) random draws, not digits.
RANDOM_INPUT_VARIANTS = ("random_inputs", "half_random_inputs")


@dataclass(frozen=True)
class Digits:
    """Raw digits split into a training and a test part.

    Attributes
    ----------
    x_train, x_test : ndarray, shape (m, 64), (n_test, 64)
        Raw pixel intensities scaled to [0, 1].
    y_train, y_test : ndarray of int64
        Labels in ``0..9``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@functools.cache
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as ``(pixels, labels)``: float64 (1797, 64) in 0–16 and int64 (1797,).

    Read from the copy of the UCI digits that ships inside scikit-learn
    (``sklearn/datasets/data/digits.csv.gz``, the file `sklearn.datasets.load_digits`
    reads: 64 pixel columns and the label) without importing scikit-learn, whose import
    costs about a second per job; falls back to `load_digits` if the file is not where
    it has always been. Cached: a job loads the data once.
    """
    spec = importlib.util.find_spec("sklearn")  # locates the package without importing it
    locations = spec.submodule_search_locations if spec else None
    path = Path(locations[0]) / "datasets" / "data" / "digits.csv.gz" if locations else None
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",")
        pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    else:  # pragma: no cover (a scikit-learn that moved its data file)
        from sklearn.datasets import load_digits

        digits = load_digits()
        pixels, labels = digits.data, digits.target.astype(np.int64)
    pixels.flags.writeable = labels.flags.writeable = False
    return pixels, labels


def load_split(n_train: int, split_seed: int) -> Digits:
    """The bundled digits split by a permutation fixed by ``split_seed``.

    The split is the same for every job of a configuration, which is why it has its own
    seed instead of the job's generator: the training images are
    ``split_indices(n_train, split_seed)[0]``.

    Parameters
    ----------
    n_train : int
        Training set size ``m``; the remaining ``1797 - m`` images are the test set.
    split_seed : int
    """
    pixels, labels = digits_arrays()
    train, test = split_indices(n_train, split_seed)
    x = pixels / PIXEL_MAX
    return Digits(x[train], labels[train], x[test], labels[test])


def split_indices(n_train: int, split_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and test images: ``permutation(1797)[:m]`` and the rest.

    The permutation is ``numpy.random.default_rng(split_seed).permutation(1797)``.
    """
    if not 0 < n_train < N_IMAGES:
        raise ValueError(f"n_train must be in (0, {N_IMAGES}), got {n_train}")
    order = np.random.default_rng(split_seed).permutation(N_IMAGES)
    return order[:n_train], order[n_train:]


def features(x: np.ndarray, center: float) -> np.ndarray:
    """Fixed feature map ``φ(x) = (x − c·1) / ‖x − c·1‖`` onto the unit sphere.

    The compression and norm bounds assume inputs in the unit ball; a per-example normalization is
    a fixed function of the example (it does not look at the sample), so the i.i.d.
    assumption of the bounds survives. Centring by a constant makes the examples less
    aligned with each other, which lets the network fit random labels in fewer steps.

    Parameters
    ----------
    x : ndarray, shape (..., 64)
        Pixels in [0, 1].
    center : float
        The constant ``c`` subtracted from every pixel.

    Returns
    -------
    ndarray, shape (..., 64), float32
    """
    z = x - center
    norm = np.linalg.norm(z, axis=-1, keepdims=True)
    return (z / np.maximum(norm, 1e-12)).astype(np.float32)


def corrupt_labels(y: np.ndarray, p: float, n_trials: int, rng: np.random.Generator) -> np.ndarray:
    """Replace each label, independently with probability ``p``, by a uniform class.

    As in Zhang et al. (2017) §2, a replaced label may by chance equal the true one, so
    ``p = 1`` gives completely random labels.

    Returns
    -------
    ndarray of int64, shape (n_trials, m)
    """
    labels = np.broadcast_to(y, (n_trials, len(y))).copy()
    replace = rng.random(labels.shape) < p
    labels[replace] = rng.integers(0, N_CLASSES, int(replace.sum()))
    return labels


def gaussian_inputs(x_ref: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator):
    """Random images with the per-pixel mean and standard deviation of ``x_ref``.

    Zhang et al. (2017) §2 "Gaussian": each pixel drawn from a Gaussian with the mean and
    variance of the real data set; clipped to the pixel range [0, 1].

    Parameters
    ----------
    x_ref : ndarray, shape (n, 64)
    shape : tuple
        Leading shape of the output, e.g. ``(n_trials, m)``.

    Returns
    -------
    ndarray, shape (*shape, 64)
    """
    mean, std = x_ref.mean(axis=0), x_ref.std(axis=0)
    draws = mean + std * rng.standard_normal((*shape, x_ref.shape[1]))
    return np.clip(draws, 0.0, 1.0)


def adversarial_labels(y: np.ndarray) -> np.ndarray:
    """The label the adversary assigns: ``(y + 1) mod 10``.

    A consistent wrong relabelling (a fixed permutation of the classes without fixed
    points) is the most harmful one: a learner that fits it has learned a systematic wrong
    rule, not noise, so the contradiction with the true half cannot average out.
    """
    return (y + 1) % N_CLASSES


def corrupted_training_set(
    digits: Digits, p: float, n_trials: int, center: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Training inputs and labels with a fraction ``p`` of corrupted labels.

    Returns
    -------
    x : ndarray, shape (n_trials, m, 64), float32
    y : ndarray of int64, shape (n_trials, m)
    """
    x = np.broadcast_to(features(digits.x_train, center), (n_trials, *digits.x_train.shape))
    return np.ascontiguousarray(x), corrupt_labels(digits.y_train, p, n_trials, rng)


def variant_training_set(
    digits: Digits, variant: str, n_trials: int, center: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Training set of one of the four postulates (Zhang et al. 2017; docs/science.md §F4).

    - ``true_labels``: the real training set;
    - ``random_inputs``: every image replaced by Gaussian pixels, labels uniform;
    - ``half_random_inputs``: a random half of the images replaced by Gaussian pixels
      with uniform labels, the other half real;
    - ``half_adversarial``: a random half relabelled ``(y + 1) mod 10``.

    Each trial draws its own half and its own random inputs.

    Returns
    -------
    x : ndarray, shape (n_trials, m, 64), float32
    y : ndarray of int64, shape (n_trials, m)
    """
    m = len(digits.y_train)
    x = np.broadcast_to(digits.x_train, (n_trials, *digits.x_train.shape)).copy()
    y = np.broadcast_to(digits.y_train, (n_trials, m)).copy()
    # Which examples are replaced: a uniformly random half per trial.
    half = rng.permuted(np.tile(np.arange(m), (n_trials, 1)), axis=1)[:, : m // 2]
    rows = np.arange(n_trials)[:, None]
    if variant == "true_labels":
        pass
    elif variant == "random_inputs":
        x = gaussian_inputs(digits.x_train, (n_trials, m), rng)
        y = rng.integers(0, N_CLASSES, (n_trials, m))
    elif variant == "half_random_inputs":
        x[rows, half] = gaussian_inputs(digits.x_train, half.shape, rng)
        y[rows, half] = rng.integers(0, N_CLASSES, half.shape)
    elif variant == "half_adversarial":
        y[rows, half] = adversarial_labels(y[rows, half])
    else:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    return features(x, center), y
