"""OGRS3 (Howard et al., Ministry of Justice 2009), exactly as published.

Coefficients are the full-precision values of the reference calculator
NOMS-DIGITAL-STUDIO/rsr-calculator (``lib/data/coefficients.json``, key ``OGRS3``), see
``shared/reference/ogrs3/README.md``. Two known discrepancies between implementations:

* Female ages 10-15: the MoJ Kotlin service uses *positive* weights (+0.785...), the
  rsr-calculator and a Python port negative ones. We use the negative values: women
  reoffend less than the male reference group, and no published test vector covers them.
* Sexual (not against child): the MoJ offence-code CSV has 0.0328; the coefficient files
  have 0.003276327, and only the latter reproduces the reference vectors.

Both MoJ implementations use only the binary first-sanction / repeat split of the
criminal-history term, and so do we.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

INTERCEPT_1YR = 1.402562384
INTERCEPT_2YR = 2.121705678
COPAS_WEIGHT = 1.251124464
FIRST_SANCTION = 0.126142106
REPEAT_SANCTION = 0.463062792

#: Lower bound (whole years) of each age band: 10-11, 12-13, 14-15, 16-17, 18-20, 21-24,
#: 25-29, 30-34, 35-39, 40-49, 50+.
AGE_BAND_STARTS = (10, 12, 14, 16, 18, 21, 25, 30, 35, 40, 50)
AGE_GENDER = {
    "M": (0.0, 0.083922902, 0.075775765, -0.061594199, -0.625103618, -1.051515067,
          -1.166679288, -1.325976554, -1.368045933, -1.499690953, -2.025261458),
    # Negative signs for ages 10-15 (see the module docstring).
    "F": (-0.785038489, -0.613852078, -0.669521331, -0.959179629, -0.897480934, -1.028488454,
          -1.052777806, -1.129127959, -1.421874940, -1.524652221, -2.449837160),
}
#: Weight by OGRS3 offence category index 0-19 (order of offenceGroupLookup.json).
OFFENCE_WEIGHTS = (
    0.0,            # 0 violence
    -0.634795912,   # 1 robbery
    0.181917975,    # 2 public order
    0.003276327,    # 3 sexual (not against child)
    -0.653434071,   # 4 sexual (against child)
    0.760608858,    # 5 soliciting or prostitution
    -0.123943520,   # 6 burglary (domestic)
    0.240604429,    # 7 burglary (other)
    0.661244321,    # 8 theft (non-motor)
    0.351866973,    # 9 handling stolen goods
    0.159910192,    # 10 fraud and forgery
    0.733378677,    # 11 absconding or bail offences
    0.380059431,    # 12 taking and driving away and related
    0.427225615,    # 13 theft from vehicles
    0.262228428,    # 14 drink driving
    -0.121439408,   # 15 other motoring
    0.204960477,    # 16 criminal damage
    -0.795556373,   # 17 drug import/export/production
    0.077165871,    # 18 drug possession/supply
    -0.060667525,   # 19 other offence
)


def age_in_years(born: dt.date, on: dt.date) -> int:
    """Whole years, birthday-aware (a 29 February birthday falls on 1 March)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_band_index(age: int) -> int:
    if age < AGE_BAND_STARTS[0]:
        raise ValueError(f"OGRS3 is not defined below age {AGE_BAND_STARTS[0]} (age {age})")
    return int(np.searchsorted(AGE_BAND_STARTS, age, side="right")) - 1


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def ogrs3(
    *,
    sex: str,
    offence_category: int,
    previous_sanctions: int,
    date_of_birth: dt.date,
    conviction_date: dt.date,
    first_sanction_date: dt.date,
    assessment_date: dt.date,
) -> tuple[float, float]:
    """Probability of proven reoffending within one and two years.

    ``sex`` is "M" or "F" (OGRS3 has no other category); ``conviction_date`` is the date
    of the current sanction, which itself counts as one sanction."""
    if sex not in AGE_GENDER:
        raise ValueError(f"OGRS3 needs sex M or F, not {sex!r}")
    if not 0 <= offence_category < len(OFFENCE_WEIGHTS):
        raise ValueError(f"OGRS3 offence category must be 0-19, not {offence_category}")
    if previous_sanctions < 0:
        raise ValueError("previous sanctions cannot be negative")
    total = previous_sanctions + 1
    age_conviction = age_in_years(date_of_birth, conviction_date)
    age_first = age_in_years(date_of_birth, first_sanction_date)
    copas = math.log(total / (10 + age_conviction - age_first))
    x = (
        AGE_GENDER[sex][age_band_index(age_in_years(date_of_birth, assessment_date))]
        + (FIRST_SANCTION if total == 1 else REPEAT_SANCTION)
        + COPAS_WEIGHT * copas
        + OFFENCE_WEIGHTS[offence_category]
    )
    return _logistic(INTERCEPT_1YR + x), _logistic(INTERCEPT_2YR + x)


def ogrs3_vector(
    *,
    female: np.ndarray,
    offence_category: np.ndarray,
    previous_sanctions: np.ndarray,
    age_at_conviction: np.ndarray,
    age_at_first_sanction: np.ndarray,
    age_at_assessment: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The same formula over arrays (whole-year ages precomputed); NaN where age < 10."""
    ages = np.asarray(age_at_assessment)
    band = np.searchsorted(np.asarray(AGE_BAND_STARTS), ages, side="right") - 1
    valid = band >= 0
    band = np.clip(band, 0, None)
    table = np.array([AGE_GENDER["M"], AGE_GENDER["F"]])
    age_term = table[np.asarray(female, dtype=int), band]
    total = np.asarray(previous_sanctions) + 1
    denominator = 10 + np.asarray(age_at_conviction) - np.asarray(age_at_first_sanction)
    copas = np.log(total / denominator)
    x = (
        age_term
        + np.where(total == 1, FIRST_SANCTION, REPEAT_SANCTION)
        + COPAS_WEIGHT * copas
        + np.asarray(OFFENCE_WEIGHTS)[np.asarray(offence_category, dtype=int)]
    )
    p1 = 1.0 / (1.0 + np.exp(-(INTERCEPT_1YR + x)))
    p2 = 1.0 / (1.0 + np.exp(-(INTERCEPT_2YR + x)))
    return np.where(valid, p1, np.nan), np.where(valid, p2, np.nan)


def risk_band(p_2yr: float) -> str:
    """MoJ band on the two-year percentage: <50 low, 50-74 medium, 75-89 high, 90+ very high."""
    pct = p_2yr * 100
    return "low" if pct < 50 else "medium" if pct < 75 else "high" if pct < 90 else "very high"
