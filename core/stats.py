"""Drift statistics on numpy alone: the population stability index and the two-sample
Kolmogorov-Smirnov test.

Scoring runs where scipy is not installed (the lean ONNX bundles), so the KS test is
computed here, following scipy's ``ks_2samp(method="auto")`` for the two-sided test:

- the statistic is the largest distance between the two empirical CDFs;
- when both samples hold at most 10,000 values the p-value is *exact*: the share of
  lattice paths from (0, 0) to (n1, n2) that leave the band the statistic defines
  (Hodges 1958), computed column by column as a normalised recurrence;
- for larger samples it is *asymptotic*: the one-sample two-sided Kolmogorov
  distribution at ``n = round(n1 * n2 / (n1 + n2))`` (Smirnov's approximation, the one scipy
  uses), evaluated as Simard and L'Ecuyer (2011) advise: Durbin's matrix (Marsaglia, Tsang
  and Wang 2003) for small ``n * d``, twice the one-sided Smirnov tail (Birnbaum and
  Tingey 1951) in the upper tail, and Pelz and Good's series (1976) otherwise.

The tests compare every branch with scipy on many random samples. numpy is imported inside
the functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["KSResult", "kolmogorov_sf", "ks_2samp", "psi"]

EXACT_MAX_N = 10_000
"""Both samples at most this large: exact p-value (scipy's ``MAX_AUTO_N``)."""

_PSI_EPS = 1e-4


@dataclass(frozen=True, slots=True)
class KSResult:
    """A two-sample KS test: the statistic, its p-value and how it was computed."""

    statistic: float
    pvalue: float
    method: str
    """``exact`` or ``asymptotic``."""


def psi(expected: Any, actual: Any) -> float:
    """Population stability index of two share vectors over the same bins.

    Shares are clipped at 1e-4 and renormalised, so an empty bin does not make it infinite.
    """
    import numpy as np

    e = np.clip(np.asarray(expected, dtype="float64"), _PSI_EPS, None)
    a = np.clip(np.asarray(actual, dtype="float64"), _PSI_EPS, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def ks_2samp(sample1: Any, sample2: Any) -> KSResult:
    """Two-sided two-sample Kolmogorov-Smirnov test (scipy's ``method="auto"``).

    :raises ValueError: a sample is empty or holds a NaN.
    """
    import numpy as np

    x = np.sort(np.asarray(sample1, dtype="float64").ravel())
    y = np.sort(np.asarray(sample2, dtype="float64").ravel())
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("ks_2samp needs two non-empty samples")
    if np.isnan(x).any() or np.isnan(y).any():
        raise ValueError("ks_2samp: the samples hold NaN; drop missing values first")
    both = np.concatenate([x, y])
    gap = np.searchsorted(x, both, side="right") / n1 - np.searchsorted(y, both, side="right") / n2
    d = float(np.max(np.abs(gap)))
    if max(n1, n2) <= EXACT_MAX_N:
        g = math.gcd(n1, n2)
        lcm = (n1 // g) * n2
        h = round(d * lcm)  # the statistic on the lattice: a multiple of 1 / lcm
        d = h / lcm
        p = 1.0 if h == 0 else _exact_outside(n1, n2, h)
        return KSResult(d, min(max(p, 0.0), 1.0), "exact")
    n = round(n1 * n2 / (n1 + n2))
    return KSResult(d, kolmogorov_sf(d, n), "asymptotic")


# --- exact two-sample distribution ------------------------------------------------------


def _exact_outside(n1: int, n2: int, h: int) -> float:
    """Share of the monotone lattice paths from (0, 0) to (m, n) that touch a point with
    ``|i * n/g - j * m/g| >= h`` (g = gcd): the exact two-sided p-value.

    Let B(i, j) be the share of paths to (i, j) that have already left the band; B = 1
    outside it, B(0, 0) = 0, and inside ``B(i, j) = (i B(i-1, j) + j B(i, j-1)) / (i + j)``
    (path counts divided by binomial coefficients, so every value stays in [0, 1]). Along
    a column (j fixed) this is the first-order recurrence ``B_i = b_i B_{i-1} + c_i`` with
    ``b_i = i / (i + j)``, solved with cumulative products; the products are rescaled in
    blocks so they never underflow.
    """
    import numpy as np

    m, n = max(n1, n2), min(n1, n2)  # columns along the shorter sample: fewer steps
    g = math.gcd(m, n)
    mg, ng = m // g, n // g
    with np.errstate(divide="ignore"):
        logs = np.log(np.arange(m + n + 1, dtype="float64"))
    inverse = np.zeros(m + n + 1)
    inverse[1:] = 1.0 / np.arange(1, m + n + 1, dtype="float64")

    # column 0: B(i, 0) = 0 while inside (i * ng < h), 1 above
    lo, hi = 0, min(m, -(-h // ng) - 1)
    column = np.zeros(hi + 1)
    for j in range(1, n + 1):
        prev_lo, prev_hi, prev = lo, hi, column
        lo = max(0, (mg * j - h) // ng + 1)
        hi = min(m, -(-(mg * j + h) // ng) - 1)
        if lo > hi:
            return 1.0
        left = np.ones(hi - lo + 1)  # B(i, j - 1), 1 where that cell is outside the band
        top = min(prev_hi, hi)
        if top >= lo:
            left[: top - lo + 1] = prev[lo - prev_lo : top - prev_lo + 1]
        column = np.empty(hi - lo + 1)
        if lo == 0:  # B(0, j) = B(0, j - 1): a single way in
            start, value = 1, float(left[0])
            column[0] = value
        else:  # the cell below the band's lower edge is outside
            start, value = 0, 1.0
        if start == len(column):
            continue
        k0 = lo + start
        log_b = np.cumsum(logs[k0 : hi + 1] - logs[k0 + j : hi + j + 1])
        weighted = j * inverse[k0 + j : hi + j + 1] * left[start:]
        blocks = np.floor(-log_b / 600.0)  # exp(600) is far from overflow
        edges = [*(np.flatnonzero(np.diff(blocks)) + 1).tolist(), len(log_b)]
        begin = 0
        for end in edges:
            base = log_b[begin - 1] if begin else 0.0
            rel = log_b[begin:end] - base
            scale = np.exp(-rel)
            column[start + begin : start + end] = (
                value + np.cumsum(weighted[begin:end] * scale)
            ) / scale
            value = float(column[start + end - 1])
            begin = end
    return float(column[m - lo])


# --- the one-sample two-sided Kolmogorov distribution -----------------------------------


def kolmogorov_sf(d: float, n: int) -> float:
    """P(D_n >= d) for the two-sided one-sample KS statistic of ``n`` values (scipy's
    ``kstwo.sf(d, n)``)."""
    if n <= 0:
        raise ValueError("kolmogorov_sf needs n >= 1")
    if d >= 1.0:
        return 0.0
    if d <= 0.0:
        return 1.0
    t = n * d
    if t <= 0.5:
        return 1.0
    if t <= 1.0:  # Ruben and Gambino: P(D_n < d) = n!/n^n (2t - 1)^n
        return _clip(1.0 - math.exp(_log_factorial(n) - n * math.log(n) + n * math.log(2 * t - 1)))
    if t >= n - 1:  # Ruben and Gambino
        return _clip(2.0 * (1.0 - d) ** n)
    if d >= 0.5:  # the two one-sided tails cannot both be reached: exact
        return _clip(2.0 * smirnov_sf(d, n))
    nd2 = t * d
    if n <= 140:
        if nd2 > 4.0:
            return _clip(2.0 * smirnov_sf(d, n))
        return _clip(1.0 - _durbin_cdf(d, n))
    if nd2 >= 370.0:
        return 0.0
    if nd2 >= 2.2:
        return _clip(2.0 * smirnov_sf(d, n))
    if n <= 100_000 and n * d**1.5 <= 1.4:
        return _clip(1.0 - _durbin_cdf(d, n))
    return _clip(1.0 - _pelz_good_cdf(d, n))


def smirnov_sf(d: float, n: int) -> float:
    """P(D_n^+ >= d), the one-sided tail, by Birnbaum and Tingey's sum of positive terms:
    ``d * sum_j C(n, j) (d + j/n)^(j-1) (1 - d - j/n)^(n-j)`` for ``j <= n (1 - d)``."""
    import numpy as np

    if d <= 0.0:
        return 1.0
    if d >= 1.0:
        return 0.0
    last = math.floor(n * (1.0 - d))
    j = np.arange(last + 1, dtype="float64")
    rest = np.clip(1.0 - d - j / n, 0.0, None)
    log_fact = _log_factorials(np.arange(n + 1, dtype="float64"))  # log k!, k = 0..n
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (
            log_fact[n]
            - log_fact[: last + 1]
            - log_fact[n - last :][::-1]
            + (j - 1) * np.log(d + j / n)
            + np.where(rest > 0, (n - j) * np.log(rest), -np.inf)
        )
    top = float(np.max(terms))
    if not math.isfinite(top):
        return 0.0
    return _clip(d * math.exp(top) * float(np.sum(np.exp(terms - top))))


def _durbin_cdf(d: float, n: int) -> float:
    """P(D_n < d) exactly, by Durbin's matrix: ``n!/n^n (H^n)[k, k]`` (Marsaglia, Tsang and
    Wang 2003), with the matrix power rescaled as it grows."""
    import numpy as np

    k = math.ceil(n * d)
    h = k - n * d
    size = 2 * k - 1
    factorials = np.array([math.factorial(i) for i in range(size + 1)], dtype="float64")
    rows = np.arange(size)[:, None]
    cols = np.arange(size)[None, :]
    diff = rows - cols + 1
    H = np.where(diff >= 0, 1.0 / factorials[np.clip(diff, 0, size)], 0.0)
    powers = np.arange(1, size + 1, dtype="float64")
    H[:, 0] -= h**powers / factorials[1:]
    H[-1, :] -= (h ** powers[::-1]) / factorials[1:][::-1]
    if 2 * h - 1 > 0:
        H[-1, 0] += (2 * h - 1) ** size / factorials[size]

    result, result_log = np.eye(size), 0.0
    base, base_log = H, 0.0
    e = n
    while e:
        if e & 1:
            result = result @ base
            result_log += base_log
            top = float(np.max(np.abs(result)))
            if top > 0:
                result /= top
                result_log += math.log(top)
        e >>= 1
        if e:
            base = base @ base
            base_log *= 2
            top = float(np.max(np.abs(base)))
            if top > 0:
                base /= top
                base_log += math.log(top)
    value = float(result[k - 1, k - 1])
    if value <= 0:
        return 0.0
    return _clip(math.exp(math.log(value) + result_log + _log_factorial(n) - n * math.log(n)))


def _pelz_good_cdf(d: float, n: int) -> float:
    """P(D_n < d) by Pelz and Good's asymptotic series in 1/sqrt(n), four terms (the form
    Simard and L'Ecuyer 2011 give for small z = d sqrt(n))."""
    import numpy as np

    z = d * math.sqrt(n)
    if -(math.pi**2) / (8 * z * z) < -708:
        return 0.0
    pi2 = math.pi**2
    terms = math.ceil(16 * z / math.pi) + 1
    half = np.arange(terms, dtype="float64") + 0.5  # (k - 1/2), k = 1, 2, ...
    whole = np.arange(1, terms + 1, dtype="float64")
    odd = np.exp(-pi2 * half**2 / (2 * z * z))
    even = np.exp(-pi2 * whole**2 / (2 * z * z))
    z2, z4, z6, z8 = z**2, z**4, z**6, z**8
    u2, u4, u6 = pi2 * half**2, pi2**2 * half**4, pi2**3 * half**6  # (pi (k - 1/2))^p
    root = math.sqrt(2 * math.pi)
    k0 = root / z * float(np.sum(odd))
    k1 = root / (6 * z4) * float(np.sum((u2 - z2) * odd))
    k2 = root / (72 * z**7) * float(
        np.sum((6 * z6 + 2 * z4 + (2 * z4 - 5 * z2) * u2 + (1 - 2 * z2) * u4) * odd)
    ) - pi2 * root / (36 * z**3) * float(np.sum(whole**2 * even))
    k3 = root / (6480 * z**10) * float(
        np.sum(
            (
                (-30 * z6 - 90 * z8)
                + (135 * z4 - 96 * z6) * u2
                + (212 * z4 - 60 * z2) * u4
                + (5 - 30 * z2) * u6
            )
            * odd
        )
    ) + pi2 * root / (216 * z6) * float(np.sum((3 * z2 - pi2 * whole**2) * whole**2 * even))
    return _clip(k0 + k1 / math.sqrt(n) + k2 / n + k3 / n**1.5)


# --- helpers ----------------------------------------------------------------------------


def _clip(p: float) -> float:
    return min(max(float(p), 0.0), 1.0)


def _log_factorial(k: int) -> float:
    return math.lgamma(k + 1)


def _log_factorials(k: Any) -> Any:
    """log(k!) for an array of non-negative integers (exact table below 32, Stirling's
    series above: accurate to a few ulps)."""
    import numpy as np

    k = np.asarray(k, dtype="float64")
    small = np.array([math.lgamma(i + 1) for i in range(32)])
    x = k + 1.0
    safe = np.maximum(x, 32.0)
    inv = 1.0 / safe
    inv2 = inv * inv
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
    stirling = (safe - 0.5) * np.log(safe) - safe + 0.5 * math.log(2 * math.pi) + series
    return np.where(k < 32, small[np.clip(k, 0, 31).astype("int64")], stirling)
