"""hookline.stats against scipy: the same KS statistic and p-value, without scipy.

Tolerances: statistics equal to 1e-12; p-values within a relative 1e-9 (or 1e-300
absolute for p-values scipy itself rounds to zero); the one-sample distribution within a
relative 1e-8 (1e-4 above a million values, where scipy approximates). Each case is a
seeded random sample, so a failure names a reproducible input.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hookline.stats import EXACT_MAX_N, kolmogorov_sf, ks_2samp, psi

scipy_stats = pytest.importorskip("scipy.stats")

REL = 1e-9


def close(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= max(REL * abs(theirs), 1e-300)


def samples(rng: np.random.Generator, n1: int, n2: int, kind: int):
    """Continuous, shifted, scaled, heavily tied (rounded) and discrete samples."""
    x = rng.normal(0.0, 1.0, n1)
    y = rng.normal(rng.uniform(0.0, 0.6), rng.uniform(0.5, 2.0), n2)
    if kind == 1:
        x, y = np.round(x, 1), np.round(y, 1)
    elif kind == 2:
        x, y = rng.integers(0, 5, n1).astype(float), rng.integers(0, 6, n2).astype(float)
    return x, y


@pytest.mark.parametrize("seed", range(6))
def test_exact_p_values_match_scipy(seed):
    rng = np.random.default_rng(seed)
    for trial in range(40):
        n1 = int(rng.integers(1, 300 if trial % 2 else 40))
        n2 = int(rng.integers(1, 2500 if trial % 3 else 60))
        if trial % 7 == 0:
            n2 = n1  # scipy's closed form for equal sizes
        x, y = samples(rng, n1, n2, trial % 3)
        theirs = scipy_stats.ks_2samp(x, y)
        ours = ks_2samp(x, y)
        assert ours.method == "exact"
        assert abs(ours.statistic - theirs.statistic) <= 1e-12, (seed, trial, n1, n2)
        assert close(ours.pvalue, theirs.pvalue), (seed, trial, n1, n2, ours, theirs.pvalue)


def test_a_drift_monitor_sized_sample_matches_scipy():
    """The monitor's case: a 1,000-quantile sketch against a large batch."""
    rng = np.random.default_rng(7)
    sketch = np.quantile(rng.normal(0, 1, 5000), np.linspace(0, 1, 1000))
    for shift in (0.0, 0.05, 0.3):
        batch = rng.normal(shift, 1, EXACT_MAX_N)
        theirs = scipy_stats.ks_2samp(sketch, batch)
        ours = ks_2samp(sketch, batch)
        assert ours.method == "exact" and close(ours.pvalue, theirs.pvalue), shift


@pytest.mark.parametrize("seed", range(3))
def test_asymptotic_p_values_match_scipy(seed):
    rng = np.random.default_rng(100 + seed)
    for trial in range(12):
        n1 = int(rng.integers(5, 3000))
        n2 = int(rng.integers(EXACT_MAX_N + 1, 40_000))
        x, y = samples(rng, n1, n2, trial % 2)
        x = x * rng.uniform(0.98, 1.02)  # small shifts: moderate p-values, not only tails
        theirs = scipy_stats.ks_2samp(x, y)
        ours = ks_2samp(x, y)
        assert ours.method == "asymptotic"
        assert abs(ours.statistic - theirs.statistic) <= 1e-12
        assert close(ours.pvalue, theirs.pvalue), (seed, trial, n1, n2, ours, theirs.pvalue)


@pytest.mark.parametrize("n", [1, 2, 7, 60, 140, 141, 900, 5000, 60_000, 100_001, 2_000_000])
def test_the_kolmogorov_distribution_matches_kstwo_in_every_branch(n):
    # d spread on the sqrt(n) scale, so each n visits the small-d, Durbin, Pelz-Good and
    # Smirnov-tail branches, plus the exact edges near 1/n and 1
    points = 120 if n <= 10_000 else 30  # scipy itself takes up to a second per large n
    z = np.concatenate([np.linspace(0.05, 6.0, points), [0.5, 1.0, 1.2, 1.5]])
    grid = np.concatenate([z / math.sqrt(n), [0.4 / n, 0.7 / n, 1.0 / n, 0.5, 0.8, 0.999]])
    # above a million values scipy approximates the one-sided Smirnov tail, where this
    # module still sums Birnbaum and Tingey's series: the two agree to 1e-4 there
    rel = 1e-8 if n <= 1_000_000 else 1e-4
    for d in grid[(grid > 0) & (grid < 1)]:
        theirs = float(scipy_stats.kstwo.sf(d, n))
        ours = kolmogorov_sf(float(d), n)
        assert abs(ours - theirs) <= max(rel * theirs, 1e-14), (n, d, ours, theirs)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="non-empty"):
        ks_2samp([], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        ks_2samp([1.0, math.nan], [1.0])
    with pytest.raises(ValueError, match="n >= 1"):
        kolmogorov_sf(0.1, 0)


def test_identical_samples_and_psi():
    result = ks_2samp([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert (result.statistic, result.pvalue) == (0.0, 1.0)
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    shifted = psi([0.25, 0.25, 0.5], [0.5, 0.25, 0.25])
    expected = (0.5 - 0.25) * math.log(2) + (0.25 - 0.5) * math.log(0.5)
    assert shifted == pytest.approx(expected)
    assert math.isfinite(psi([1.0, 0.0], [0.0, 1.0]))  # empty bins are clipped


def test_scoring_statistics_import_neither_scipy_nor_pandas():
    code = (
        "import json, sys\n"
        "import numpy as np\n"
        "from hookline.stats import ks_2samp, psi\n"
        "r = ks_2samp(np.arange(50.0), np.arange(20000.0) / 400)\n"
        "s = ks_2samp(np.arange(50.0), np.arange(70.0))\n"
        "print(json.dumps({'p': [r.pvalue, s.pvalue], 'psi': psi([0.5, 0.5], [0.4, 0.6]),\n"
        "    'loaded': sorted(m for m in ('scipy', 'pandas', 'sklearn') if m in sys.modules)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(out.stdout)
    assert result["loaded"] == []
    assert 0.0 <= min(result["p"]) and max(result["p"]) <= 1.0 and result["psi"] > 0
