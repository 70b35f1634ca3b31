"""The demand model: choice shares from ballots, a conversion rate calibrated from history.

Choice model. Each ballot is one choice among the variants or the outside option (buy none):
a would-buy flag (score votes), the choice (plurality), the first rank (Schulze) or the
approvals (approval), split evenly when a ballot names several. A multinomial logit with an
outside option and one constant per variant has a closed-form maximum-likelihood fit: each
alternative's probability is its share of the ballots (``p_v = n_v / N``), so that is the fit we
use, without an optimiser. Scaled to the campaign's participants ``M`` (the customers who
wished), ``M p_v`` customers are expected to choose variant ``v``; ballots are a sample without
replacement of the participants, so that estimate has variance ``M^2 p (1-p) / N`` times the
finite-population correction ``(M - N) / (M - 1)``.

Conversion. Past campaigns of the same database that closed a pre-sale give pairs (expected
choosers ``x``, pledged units ``y``) per variant (a variant that sold out is left out: its
demand is censored). Pledged units are modelled as quasi-Poisson, ``E[y] = r x`` and
``Var[y] = phi r x``: ``r`` is the ratio estimator ``sum y / sum x`` (its maximum-likelihood
estimate), ``phi`` the Pearson dispersion (at least 1; it absorbs units per pledge and the noise
of past signals). The prediction interval of a new variant adds the variances of its own units,
of ``r`` and of its signal, with a Student t quantile (``n - 1`` degrees of freedom). With no
history the rate is unknown: the interval spans conversions from 10% to 100% and says so.

Pure Python; with the ``forecast`` extra installed, scipy supplies the t quantile for any level
(the built-in table covers 80%, 90% and 95%).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

PRIOR_RATES = (0.1, 1.0)
PRIOR_RATE = 0.5
LEVELS = (0.8, 0.9, 0.95)
# two-sided Student t quantiles for 1..30 degrees of freedom, then 40, 60, 120, infinity
_T_DF = (*range(1, 31), 40, 60, 120, math.inf)
_T = {
    0.8: (3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372, 1.363, 1.356,
          1.350, 1.345, 1.341, 1.337, 1.333, 1.330, 1.328, 1.325, 1.323, 1.321, 1.319, 1.318,
          1.316, 1.315, 1.314, 1.313, 1.311, 1.310, 1.303, 1.296, 1.289, 1.282),
    0.9: (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782,
          1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711,
          1.708, 1.706, 1.703, 1.701, 1.699, 1.697, 1.684, 1.671, 1.658, 1.645),
    0.95: (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
           2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
           2.060, 2.056, 2.052, 2.048, 2.045, 2.042, 2.021, 2.000, 1.980, 1.960),
}  # fmt: skip


def t_quantile(level: float, df: float) -> float:
    """The two-sided Student t quantile for ``level`` (scipy when installed, else a table)."""
    try:
        from scipy.stats import t
    except ImportError:
        if level not in _T:
            raise ValueError(
                f"level {level} needs scipy (pip install 'c2m[forecast]'); without it: "
                f"{', '.join(map(str, LEVELS))}"
            ) from None
        for bound, value in zip(_T_DF, _T[level], strict=True):
            if df <= bound:
                return value
        return _T[level][-1]
    return float(t.ppf(0.5 + level / 2, math.inf if df == math.inf else df))


def choice_shares(choices: dict[int, float], ballots: int) -> dict[int, float]:
    """The multinomial logit's fitted choice probabilities: each variant's share of ballots."""
    return {v: (n / ballots if ballots else 0.0) for v, n in choices.items()}


def choosers(share: float, participants: int, ballots: int) -> tuple[float, float]:
    """Expected choosers among ``participants`` and the variance of that estimate."""
    if not ballots:
        return 0.0, 0.0
    population = max(participants, ballots)
    correction = (population - ballots) / (population - 1) if population > 1 else 0.0
    mean = population * share
    variance = population**2 * share * (1 - share) / ballots * correction
    return mean, variance


@attrs.frozen
class Calibration:
    """The conversion rate (pledged units per expected chooser) and how sure it is."""

    rate: float
    dispersion: float
    rate_variance: float
    variants: int
    campaigns: int
    calibrated: bool

    def describe(self) -> str:
        if not self.calibrated:
            low, high = PRIOR_RATES
            return (
                f"not calibrated (no closed pre-sale before it in this database): conversion "
                f"assumed {low:.0%} to {high:.0%}"
            )
        return (
            f"conversion {self.rate:.3f} units per expected chooser, from {self.variants} "
            f"variant(s) of {self.campaigns} past campaign(s) (dispersion {self.dispersion:.2f})"
        )

    def to_dict(self) -> dict:
        return attrs.asdict(self) | {"description": self.describe()}


def calibrate(history: Sequence[tuple[float, int]], campaigns: int = 0) -> Calibration:
    """Fit ``r`` and ``phi`` to past ``(expected choosers, pledged units)`` pairs."""
    pairs = [(x, y) for x, y in history if x > 0]
    total_x = sum(x for x, _ in pairs)
    if len(pairs) < 2 or total_x <= 0 or sum(y for _, y in pairs) <= 0:
        return Calibration(PRIOR_RATE, 1.0, 0.0, len(pairs), campaigns, False)
    rate = sum(y for _, y in pairs) / total_x
    pearson = sum((y - rate * x) ** 2 / (rate * x) for x, y in pairs) / (len(pairs) - 1)
    dispersion = max(1.0, pearson)
    return Calibration(rate, dispersion, dispersion * rate / total_x, len(pairs), campaigns, True)


@attrs.frozen
class Prediction:
    """Forecast units: the expected value and a prediction interval at ``level``."""

    mean: float
    low: int
    high: int
    sd: float
    level: float

    def chance_at_least(self, units: int) -> float:
        """The chance of at least ``units`` units (normal approximation, continuity corrected)."""
        if self.sd <= 0:
            return 1.0 if self.mean >= units else 0.0
        z = (units - 0.5 - self.mean) / self.sd
        return 0.5 * math.erfc(z / math.sqrt(2))


def predict(
    signal: float, signal_variance: float, calibration: Calibration, level: float = 0.95
) -> Prediction:
    """Units a variant with ``signal`` expected choosers will pledge, with an interval."""
    c = calibration
    if not c.calibrated:
        low_rate, high_rate = PRIOR_RATES
        z = t_quantile(level, math.inf)
        spread_low = math.sqrt(low_rate * signal + low_rate**2 * signal_variance)
        spread_high = math.sqrt(high_rate * signal + high_rate**2 * signal_variance)
        mean = c.rate * signal
        sd = max((high_rate - low_rate) * signal / 4, math.sqrt(mean))
        return Prediction(
            mean,
            max(0, math.floor(low_rate * signal - z * spread_low)),
            math.ceil(high_rate * signal + z * spread_high),
            sd,
            level,
        )
    mean = c.rate * signal
    variance = c.dispersion * mean + signal**2 * c.rate_variance + c.rate**2 * signal_variance
    sd = math.sqrt(variance)
    q = t_quantile(level, max(c.variants - 1, 1))
    return Prediction(mean, max(0, math.floor(mean - q * sd)), math.ceil(mean + q * sd), sd, level)
