"""The synthetic force, built as column arrays with one seeded numpy generator.

Everything is vectorised over people and crimes; the only Python loops run over the IOM
cohort (thousands) or over small catalogues. Dates are held as day numbers (days since
1970-01-01) until the writer turns them into dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from faker.providers.person.en_GB import Provider as NameProvider

from iom.apportion import largest_remainder
from iom.cohorts.rules import lead_agency_rules
from iom.synth import params as P

EPOCH = dt.date(1970, 1, 1)
#: Day number standing for "no date" (dates before 1970 are negative day numbers).
NO_DATE = -(10**9)
MONTHS = P.HISTORY_YEARS * 12
YEAR = 365.25

Table = dict[str, np.ndarray]


def day_number(date: dt.date) -> int:
    return (date - EPOCH).days


def gumbel_top_k(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with probability ∝ weights."""
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.size)
    return np.argsort(-keys, kind="stable")[:k]


def age_curve(age: np.ndarray) -> np.ndarray:
    """Relative offending intensity by age: zero under 10, peaking at 18, long tail."""
    x = np.clip(age - 10.0, 0.0, None) / 8.0
    return x * np.exp(1.0 - x)


@dataclass
class Force:
    """Everything generated, table by table, as column arrays."""

    people: Table = field(default_factory=dict)
    markers: Table = field(default_factory=dict)
    crimes: Table = field(default_factory=dict)
    memberships: Table = field(default_factory=dict)
    risk: Table = field(default_factory=dict)
    management: Table = field(default_factory=dict)


@dataclass
class ForceSpec:
    seed: int
    people: int = P.DEFAULT_PEOPLE
    as_of: dt.date = P.REFERENCE_DATE

    @property
    def cohort_scale(self) -> float:
        return min(1.0, self.people / P.FULL_COHORT_POPULATION)

    @property
    def oocd_scale(self) -> float:
        return self.people / P.DEFAULT_PEOPLE


#: Officers per LOMU before the pool followed units.csv: the main stream still draws this many.
OLD_POOL = 12
OFFICER_STREAM = 0x4F4D  # "OM"


class OfficerPool:
    """Who manages each synthetic member: a current member goes to the officer in the LOMU with
    the lightest workload (points by iom.cohort_framework's workload rules), as a supervisor
    balancing caseloads would; a past member to any officer of the LOMU."""

    def __init__(self, pools: dict[str, list[str]], rng: np.random.Generator) -> None:
        from iom.cohort_framework.rules import workload_rules

        self.pools = pools
        self.rng = rng
        self.rules = workload_rules()
        self.loads = {lomu: dict.fromkeys(names, 0) for lomu, names in pools.items()}

    def allocate(self, lomu: str, offender_type: str, level: str | None) -> str:
        if level is None:
            names = self.pools[lomu]
            return names[int(self.rng.integers(0, len(names)))]
        loads = self.loads[lomu]
        name = min(loads, key=loads.__getitem__)
        loads[name] += self.rules.case_points(offender_type, level)
        return name


class Generator:
    def __init__(self, spec: ForceSpec, npu_codes: list[str], npu_lomu: dict[str, str],
                 offences: dict[str, dict], progress: Callable[[str], None] | None = None,
                 npu_officers: dict[str, int] | None = None) -> None:
        self.spec = spec
        #: Offender managers per NPU (units.csv); a LOMU's officers are its NPUs' together.
        self.npu_officers = npu_officers or {}
        self.rng = np.random.default_rng(spec.seed)
        self.npus = np.array(npu_codes)
        self.npu_lomu = npu_lomu
        self.offences = offences
        self.end = day_number(spec.as_of)
        self.start = day_number(spec.as_of.replace(year=spec.as_of.year - P.HISTORY_YEARS)) + 1
        edges = np.linspace(self.start, self.end + 1, MONTHS + 1)
        self.month_edges = np.round(edges).astype(np.int64)
        self.month_mid = (self.month_edges[:-1] + self.month_edges[1:]) / 2.0
        self.progress = progress or (lambda _step: None)
        self.force = Force()

    # -- people ---------------------------------------------------------------------------
    def _names(self, n: int, sex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        male = np.array(NameProvider.first_names_male)
        female = np.array(NameProvider.first_names_female)
        last = np.array(list(NameProvider.last_names.keys()))
        last_w = np.array(list(NameProvider.last_names.values()), dtype=float)
        given = np.where(sex == "F", female[self.rng.integers(0, female.size, n)],
                         male[self.rng.integers(0, male.size, n)])
        family = last[self.rng.choice(last.size, n, p=last_w / last_w.sum())]
        return given, family

    def _pseudo_ids(self, n: int) -> np.ndarray:
        # Same shape as imported people's ids: "P" and 11 base-32 characters.
        alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
        while True:
            codes = self.rng.integers(0, alphabet.size, size=(n, 11))
            ids = np.array(["P" + "".join(row) for row in alphabet[codes]])
            if np.unique(ids).size == n:
                return ids

    def make_people(self) -> None:
        rng, n = self.rng, self.spec.people
        npu_weights = np.array([P.PUBLISHED_NPU_OFFENDERS.get(c, 1.0) for c in self.npus], dtype=float)
        sex = np.where(rng.random(n) < 0.85, "M", "F")
        age_now = np.clip(14.0 + rng.gamma(2.2, 8.5, n), 14.0, 85.0)
        dob = (self.end - age_now * YEAR).astype(np.int64)
        eth_codes = np.array(list(P.ETHNICITY_SHARES))
        eth_p = np.array(list(P.ETHNICITY_SHARES.values()))
        ethnicity = eth_codes[rng.choice(eth_codes.size, n, p=eth_p / eth_p.sum())]
        home = self.npus[rng.choice(self.npus.size, n, p=npu_weights / npu_weights.sum())]
        # Heavy-tailed individual propensity: most offend once or twice, a few hundred times.
        propensity = rng.lognormal(0.0, 1.25, n)
        self.offender = dict(sex=sex, dob=dob, ethnicity=ethnicity, home=home, propensity=propensity)

    def make_victims(self, n_victims: int) -> None:
        rng = self.rng
        sex = np.where(rng.random(n_victims) < 0.82, "F", "M")
        age_now = np.clip(18.0 + rng.gamma(2.5, 7.0, n_victims), 18.0, 90.0)
        npu_weights = np.array([P.PUBLISHED_NPU_OFFENDERS.get(c, 1.0) for c in self.npus], dtype=float)
        self.victim = dict(
            sex=sex,
            dob=(self.end - age_now * YEAR).astype(np.int64),
            ethnicity=np.array(list(P.ETHNICITY_SHARES))[
                rng.choice(len(P.ETHNICITY_SHARES), n_victims,
                           p=np.array(list(P.ETHNICITY_SHARES.values())) / sum(P.ETHNICITY_SHARES.values()))],
            home=self.npus[rng.choice(self.npus.size, n_victims, p=npu_weights / npu_weights.sum())],
        )

    # -- IOM cohort -----------------------------------------------------------------------
    def make_cohort(self) -> None:
        rng, spec, off = self.rng, self.spec, self.offender
        scale = spec.cohort_scale
        n_members = round(P.PUBLISHED_MEMBERS * scale)
        class_targets = {c: round(k * scale) for c, k in P.PUBLISHED_CLASSIFICATIONS.items()}
        risk_targets = largest_remainder(n_members, P.PUBLISHED_RISK)
        npu_quota = largest_remainder(n_members, {c: P.PUBLISHED_NPU_OFFENDERS.get(c, 1) for c in self.npus})
        youth_quota = largest_remainder(class_targets["DYO"], {c: P.PUBLISHED_NPU_OFFENDERS.get(c, 1) for c in self.npus})

        age_now = (self.end - off["dob"]) / YEAR
        activity = off["propensity"] * age_curve(age_now)
        is_youth = (age_now >= 14) & (age_now < 18)
        members: list[int] = []
        for code in self.npus:
            here = off["home"] == code
            youths = np.flatnonzero(here & is_youth)
            adults = np.flatnonzero(here & (age_now >= 18))
            chosen_youth = youths[gumbel_top_k(rng, activity[youths] ** 2, youth_quota[code])]
            chosen_adult = adults[gumbel_top_k(rng, activity[adults] ** 2, npu_quota[code] - chosen_youth.size)]
            members.extend(chosen_youth.tolist())
            members.extend(chosen_adult.tolist())
        members_arr = np.array(sorted(members), dtype=np.int64)
        if members_arr.size != n_members:
            raise RuntimeError("population too small for the cohort quotas")
        self.members = members_arr
        m_age = age_now[members_arr]
        m_youth = (m_age < 18)

        # Classifications: everyone gets one primary, then each quota is filled exactly.
        codes = list(class_targets)
        remaining = dict(class_targets)
        chosen: dict[str, set[int]] = {c: set() for c in codes}
        adult_primary = [c for c in codes if c != "DYO"]
        for pos in rng.permutation(members_arr.size):
            if m_youth[pos]:
                choice = "DYO"
            else:
                w = np.array([max(remaining[c], 0) for c in adult_primary], dtype=float)
                choice = adult_primary[int(rng.choice(len(adult_primary), p=w / w.sum()))]
            chosen[choice].add(int(pos))
            remaining[choice] -= 1
        latent = rng.dirichlet(np.ones(len(codes)), members_arr.size)
        m_activity = activity[members_arr]
        for j, code in enumerate(codes):
            need = class_targets[code] - len(chosen[code])
            if need < 0:
                raise RuntimeError(f"primary assignment overfilled {code}")
            eligible = np.ones(members_arr.size, dtype=bool)
            eligible[list(chosen[code])] = False
            if code == "DYO":
                eligible &= m_youth
            elif code in ("MAPPA", "HCCU", "PPO", "OCG"):
                eligible &= ~m_youth
            weight = latent[:, j] + (m_activity / m_activity.max() if code == "PPO" else 0.0)
            pool = np.flatnonzero(eligible)
            chosen[code].update(pool[gumbel_top_k(rng, weight[pool], need)].tolist())
        self.member_classes = [[c for c in codes if pos in chosen[c]] for pos in range(members_arr.size)]

        # Adoption dates: within the last three years; current members have not exited.
        adopt = self.end - rng.integers(30, 3 * 365, members_arr.size)
        # Past members: an earlier cohort, adopted and exited inside the window.
        non_members = np.setdiff1d(np.flatnonzero(age_now >= 16), members_arr)
        n_past = round(0.8 * n_members)
        past = np.sort(non_members[gumbel_top_k(rng, activity[non_members] ** 2, n_past)])
        past_adopt = rng.integers(self.start + 365, self.end - 300, past.size)
        past_exit = np.minimum(past_adopt + rng.integers(180, 900, past.size), self.end - 30)
        past_classes = []
        weights = np.array([class_targets[c] for c in adult_primary], dtype=float)
        for _ in range(past.size):
            k = int(rng.integers(1, 4))
            idx = rng.choice(len(adult_primary), size=k, replace=False, p=weights / weights.sum())
            past_classes.append(sorted(adult_primary[i] for i in idx))
        self.past, self.past_adopt, self.past_exit, self.past_classes = past, past_adopt, past_exit, past_classes
        self.adopt = adopt

        # Risk: the most active and the most dangerous classifications rank highest.
        danger = np.array([sum(c in ("MAPPA", "OCG", "USG") for c in cl) for cl in self.member_classes])
        key = np.log(m_activity + 1e-9) + 0.8 * danger + rng.normal(0, 0.6, members_arr.size)
        order = np.argsort(-key, kind="stable")
        level = np.empty(members_arr.size, dtype=object)
        level[order[: risk_targets["High"]]] = "High"
        level[order[risk_targets["High"]: risk_targets["High"] + risk_targets["Medium"]]] = "Medium"
        level[order[risk_targets["High"] + risk_targets["Medium"]:]] = "Low"
        self.member_risk = level

    # -- crimes ---------------------------------------------------------------------------
    def _rate_matrix(self) -> np.ndarray:
        """Expected crimes per month, person by month (float32, people × 120)."""
        off = self.offender
        age = (self.month_mid[None, :] - off["dob"][:, None]) / YEAR
        weight = age_curve(age).astype(np.float32)
        mid = self.month_mid[None, :]

        def apply(rows, adopt, exit_):
            before = (mid >= adopt[:, None] - 182) & (mid < adopt[:, None])
            during = (mid >= adopt[:, None]) & (mid < exit_[:, None])
            after = mid >= exit_[:, None]
            factor = np.where(before, P.RATE_BEFORE_ADOPTION,
                              np.where(during, P.RATE_DURING, np.where(after, P.RATE_AFTER_EXIT, 1.0)))
            weight[rows] *= factor.astype(np.float32)

        apply(self.members, self.adopt, np.full(self.members.size, self.end + 1))
        apply(self.past, self.past_adopt, self.past_exit)
        return weight

    def _profiles(self) -> np.ndarray:
        """Each offender's offence-family mix (people × families)."""
        fam = list(P.FAMILIES)
        shares = np.array([P.FAMILIES[f][0] for f in fam])
        profile = self.rng.dirichlet(shares * 3.0, self.spec.people)
        for pos, person in enumerate(self.members):
            boost = np.zeros(len(fam))
            for code in self.member_classes[pos]:
                for family, amount in P.CLASSIFICATION_FAMILIES[code].items():
                    boost[fam.index(family)] += amount
            profile[person] = 0.35 * profile[person] + boost + 0.05
            profile[person] /= profile[person].sum()
        return profile

    def make_crimes(self) -> None:
        rng, off = self.rng, self.offender
        rate = self._rate_matrix()
        expected = rate.sum(axis=1, dtype=np.float64) * off["propensity"]
        expected *= (P.MEAN_GENERAL_CRIMES * self.spec.people) / expected.sum()
        counts = np.maximum(rng.poisson(expected), 1)
        # Members are chosen for current offending: give each at least a few crimes.
        counts[self.members] = np.maximum(counts[self.members], 4)
        person = np.repeat(np.arange(self.spec.people), counts)
        # Month of each crime: inverse CDF on each person's row, in one searchsorted.
        cum = np.cumsum(rate, axis=1, dtype=np.float64)
        totals = cum[:, -1:].copy()
        totals[totals == 0] = 1.0
        cum = cum / totals + np.arange(self.spec.people)[:, None]
        target = person + rng.random(person.size)
        month = np.searchsorted(cum.ravel(), target) - person * MONTHS
        month = np.clip(month, 0, MONTHS - 1)
        del cum, rate
        lo, hi = self.month_edges[month], self.month_edges[month + 1]
        committed = lo + (rng.random(person.size) * (hi - lo)).astype(np.int64)
        committed = np.clip(np.maximum(committed, off["dob"][person] + int(10 * YEAR)), self.start, self.end)

        fam_names = list(P.FAMILIES)
        profile = self._profiles()
        cum_profile = np.cumsum(profile, axis=1)
        u = rng.random(person.size)
        family = (u[:, None] > cum_profile[person]).sum(axis=1)
        family = np.minimum(family, len(fam_names) - 1)
        offence = np.empty(person.size, dtype=object)
        for f_idx, f_name in enumerate(fam_names):
            rows = np.flatnonzero(family == f_idx)
            codes = list(P.FAMILIES[f_name][1])
            w = np.array(list(P.FAMILIES[f_name][1].values()))
            offence[rows] = np.array(codes, dtype=object)[rng.choice(len(codes), rows.size, p=w / w.sum())]
        npu = np.where(rng.random(person.size) < 0.85, off["home"][person],
                       self.npus[rng.integers(0, self.npus.size, person.size)])
        self._general = dict(person=person, committed=committed, offence=offence, npu=npu,
                             victim=np.full(person.size, -1, dtype=np.int64))

    def make_domestic_abuse(self) -> None:
        """Perpetrators, their partners and the incidents between them."""
        rng, off = self.rng, self.offender
        age_now = (self.end - off["dob"]) / YEAR
        weight = np.where(off["sex"] == "M", 1.0, 0.25) * ((age_now >= 20) & (age_now < 70))
        member_bonus = np.zeros(self.spec.people)
        member_bonus[self.members] = 2.0
        weight = weight * (1.0 + member_bonus)
        n_perp = round(0.05 * self.spec.people)
        perps = np.sort(gumbel_top_k(rng, weight, n_perp))
        victims_each = rng.choice([1, 2, 3, 4], n_perp, p=[0.80, 0.14, 0.045, 0.015])
        rel_perp = np.repeat(perps, victims_each)
        n_rel = rel_perp.size
        # Most victims are not otherwise in the register; some are offenders themselves.
        n_new = int(round(n_rel * 0.85))
        self.make_victims(n_new)
        victim = np.empty(n_rel, dtype=np.int64)
        slots = rng.permutation(n_rel)
        new_slots, existing_slots = slots[:n_new], slots[n_new:]
        victim[new_slots] = self.spec.people + np.arange(n_new)
        female_offenders = np.flatnonzero((off["sex"] == "F") & (age_now >= 18))
        victim[existing_slots] = female_offenders[rng.integers(0, female_offenders.size, existing_slots.size)]
        rel_start = rng.integers(self.start, self.end - 60, n_rel)
        rel_len = rng.integers(90, 4 * 365, n_rel)
        incidents = 1 + rng.geometric(0.35, n_rel)
        rel = np.repeat(np.arange(n_rel), incidents)
        committed = rel_start[rel] + (rng.random(rel.size) * rel_len[rel]).astype(np.int64)
        committed = np.clip(committed, self.start, self.end)
        person = rel_perp[rel]
        sixteen = off["dob"][person] + int(16 * YEAR)
        keep = committed >= sixteen
        codes = list(P.DA_OFFENCES)
        w = np.array(list(P.DA_OFFENCES.values()))
        offence = np.array(codes, dtype=object)[rng.choice(len(codes), rel.size, p=w / w.sum())]
        self._da = dict(person=person[keep], committed=committed[keep], offence=offence[keep],
                        npu=off["home"][person[keep]], victim=victim[rel][keep])

    def _outcomes(self, committed: np.ndarray, offence: np.ndarray, person: np.ndarray) -> dict[str, np.ndarray]:
        rng, n = self.rng, committed.size
        info = self.offences
        gravity = np.array([info[c]["gravity"] for c in offence])
        is_crime = np.array([info[c]["is_crime"] for c in offence])
        da = np.array([info[c]["domestic_abuse"] for c in offence])
        hate = np.array([info[c]["hate"] for c in offence])
        sexual = np.array([info[c]["offence_group"] == "Sexual offences" for c in offence])
        lag = rng.geometric(0.35, n) - 1
        lag = lag + np.where(sexual & (rng.random(n) < 0.3), rng.exponential(200, n).astype(np.int64), 0)
        recorded = np.minimum(committed + lag, self.end)
        outcome = np.empty(n, dtype=object)
        names = np.array(["charge", "caution", "conditional_caution", "community_resolution", "nfa"], dtype=object)
        for g, probs in P.OUTCOME_BY_GRAVITY.items():
            rows = np.flatnonzero(gravity == g)
            outcome[rows] = names[rng.choice(5, rows.size, p=probs)]
        outcome[~is_crime] = "nfa"
        # Conditional cautions are not given for DA or hate crime (outside pilots).
        outcome[(da | hate) & (outcome == "conditional_caution")] = "charge"
        delay = {"charge": (30, 150), "caution": (7, 45), "conditional_caution": (7, 45),
                 "community_resolution": (0, 10), "nfa": (10, 120)}
        outcome_day = np.empty(n, dtype=np.int64)
        for name, (lo, hi) in delay.items():
            rows = np.flatnonzero(outcome == name)
            outcome_day[rows] = recorded[rows] + rng.integers(lo, hi, rows.size)
        youth = (committed - self._dob_all[person]) < 18 * YEAR
        result = dict(recorded=recorded, outcome=outcome, outcome_day=outcome_day, youth=youth,
                      gravity=gravity, is_crime=is_crime, da=da, hate=hate)
        self._calibrate_oocd(result)
        pending = result["outcome_day"] > self.end
        result["outcome"][pending] = "pending"
        result["outcome_day"][pending] = NO_DATE
        return result

    def _calibrate_oocd(self, r: dict[str, np.ndarray]) -> None:
        """Make out-of-court disposal volumes per financial year match Table A exactly."""
        rng = self.rng
        for year, targets in P.PUBLISHED_OOCD.items():
            fy_start = day_number(dt.date(year, 4, 1))
            fy_end = day_number(dt.date(year + 1, 3, 31))
            if fy_end > self.end or fy_start < self.start:
                continue
            in_year = (r["outcome_day"] >= fy_start) & (r["outcome_day"] <= fy_end) & r["is_crime"]
            eligible = in_year & (r["gravity"] <= 3)
            for key, target in targets.items():
                youth = key.startswith("youth")
                cautions = key.endswith("caution")
                kinds = ("caution", "conditional_caution") if cautions else ("community_resolution",)
                target = round(target * self.spec.oocd_scale)
                group = in_year & (r["youth"] == youth)
                current = np.flatnonzero(group & np.isin(r["outcome"], kinds))
                if current.size > target:
                    drop = rng.choice(current, current.size - target, replace=False)
                    r["outcome"][drop] = "charge"
                elif current.size < target:
                    pool = np.flatnonzero(eligible & (r["youth"] == youth) &
                                          np.isin(r["outcome"], ("nfa", "charge")))
                    add = rng.choice(pool, min(target - current.size, pool.size), replace=False)
                    r["outcome"][add] = kinds[0]
                if cautions and not youth:
                    rows = np.flatnonzero(group & np.isin(r["outcome"], kinds))
                    allowed = rows[~(r["da"][rows] | r["hate"][rows])]
                    n_cond = min(round(P.CONDITIONAL_SHARE_OF_ADULT_CAUTIONS * rows.size), allowed.size)
                    r["outcome"][rows] = "caution"
                    r["outcome"][rng.choice(allowed, n_cond, replace=False)] = "conditional_caution"

    def assemble_crimes(self) -> None:
        rng = self.rng
        g, d = self._general, self._da
        person = np.concatenate([g["person"], d["person"]])
        committed = np.concatenate([g["committed"], d["committed"]])
        offence = np.concatenate([g["offence"], d["offence"]])
        npu = np.concatenate([g["npu"], d["npu"]])
        victim = np.concatenate([g["victim"], d["victim"]])
        # Stable order: by date committed, then person; ids follow that order.
        order = np.lexsort((person, committed))
        person, committed, offence, npu, victim = (a[order] for a in (person, committed, offence, npu, victim))
        o = self._outcomes(committed, offence, person)
        n = person.size
        offence_group = np.array([self.offences[c]["offence_group"] for c in offence])
        alcohol_p = np.select(
            [o["da"], offence_group == "Violence against the person", offence_group == "Public order offences"],
            [0.30, 0.35, 0.45], 0.05)
        involvement = np.where(np.isin(o["outcome"], ("nfa", "pending")), "suspect", "offender")
        self.force.crimes = dict(
            id=np.arange(1, n + 1),
            source_id=np.char.add("SYN-C", np.char.zfill(np.arange(1, n + 1).astype(str), 8)),
            person_id=person + 1,
            involvement=involvement,
            committed_on=committed,
            recorded_on=o["recorded"],
            offence_code=offence,
            npu_code=npu,
            domestic_abuse=o["da"],
            alcohol_related=rng.random(n) < alcohol_p,
            hate=o["hate"],
            victim_person_id=np.where(victim >= 0, victim + 1, -1),
            outcome=o["outcome"],
            outcome_on=o["outcome_day"],
        )

    # -- tables ---------------------------------------------------------------------------
    def assemble_people(self) -> None:
        off, vic = self.offender, self.victim
        sex = np.concatenate([off["sex"], vic["sex"]])
        n = sex.size
        given, family = self._names(n, sex)
        self.force.people = dict(
            id=np.arange(1, n + 1),
            pseudo_id=self._pseudo_ids(n),
            source_id=np.char.add("SYN-P", np.char.zfill(np.arange(1, n + 1).astype(str), 7)),
            given_name=given,
            family_name=family,
            date_of_birth=np.concatenate([off["dob"], vic["dob"]]),
            sex=sex,
            ethnicity=np.concatenate([off["ethnicity"], vic["ethnicity"]]),
            home_npu=np.concatenate([off["home"], vic["home"]]),
            language=np.where(self.rng.random(n) < 0.04, "Polish", "English"),
            interpreter_needed=np.zeros(n, dtype=bool),
        )
        p = self.force.people
        p["language"][self.rng.random(n) < 0.03] = "Urdu"
        p["interpreter_needed"] = (p["language"] != "English") & (self.rng.random(n) < 0.4)

    def make_markers(self) -> None:
        rng, n = self.rng, self.spec.people
        is_member = np.zeros(n, dtype=bool)
        is_member[self.members] = True
        rows: dict[str, list[np.ndarray]] = {"person": [], "marker": [], "start": [], "end": []}
        dob = self.offender["dob"]
        for marker, (base, member) in P.MARKER_RATES.items():
            p = np.where(is_member, member, base)
            who = np.flatnonzero(rng.random(n) < p)
            self._add_markers(rows, who, marker, dob)
        hccu = [self.members[pos] for pos, cl in enumerate(self.member_classes) if "HCCU" in cl]
        extra = np.flatnonzero(rng.random(n) < 0.02)
        self._add_markers(rows, np.unique(np.concatenate([np.array(hccu, dtype=np.int64), extra])), "CLASS_A", dob)
        # Offenders who are also recorded DA victims carry the marker from their first incident.
        da_victims = self._da["victim"]
        offender_victims = da_victims[da_victims < n]
        if offender_victims.size:
            first = {}
            for v, day in zip(offender_victims.tolist(), self._da["committed"][self._da["victim"] < n].tolist()):
                first[v] = min(day, first.get(v, day))
            who = np.array(sorted(first), dtype=np.int64)
            rows["person"].append(who)
            rows["marker"].append(np.full(who.size, "DA_VICTIM", dtype=object))
            rows["start"].append(np.array([first[v] for v in who.tolist()], dtype=np.int64))
            rows["end"].append(np.full(who.size, NO_DATE, dtype=np.int64))
        person = np.concatenate(rows["person"])
        m = person.size
        self.force.markers = dict(
            id=np.arange(1, m + 1),
            person_id=person + 1,
            marker=np.concatenate(rows["marker"]),
            started_on=np.concatenate(rows["start"]),
            ended_on=np.concatenate(rows["end"]),
            source=np.full(m, "synthetic", dtype=object),
        )

    def _add_markers(self, rows, who: np.ndarray, marker: str, dob: np.ndarray) -> None:
        rng = self.rng
        earliest = np.maximum(dob[who] + int(12 * YEAR), self.start - 5 * 365)
        start = earliest + (rng.random(who.size) * np.maximum(self.end - earliest, 1)).astype(np.int64)
        ended = rng.random(who.size) < 0.35
        end = np.where(ended, np.minimum(start + rng.integers(60, 1500, who.size), self.end), NO_DATE)
        end = np.where(end <= start, NO_DATE, end)
        rows["person"].append(who)
        rows["marker"].append(np.full(who.size, marker, dtype=object))
        rows["start"].append(start)
        rows["end"].append(end)

    def assemble_cohort(self) -> None:
        rng = self.rng
        mem_person, mem_class, mem_adopt, mem_exit, mem_reason, mem_exit_reason = [], [], [], [], [], []
        for pos, person in enumerate(self.members.tolist()):
            for code in self.member_classes[pos]:
                mem_person.append(person)
                mem_class.append(code)
                mem_adopt.append(int(self.adopt[pos]))
                mem_exit.append(NO_DATE)
                mem_reason.append("selected by risk matrix and professional judgement")
                mem_exit_reason.append(None)
        exit_reasons = ["no offending for 12 months", "long custodial sentence", "moved out of force area",
                        "risk reduced: stepped down to universal services"]
        for pos, person in enumerate(self.past.tolist()):
            reason = exit_reasons[int(rng.integers(0, len(exit_reasons)))]
            for code in self.past_classes[pos]:
                mem_person.append(person)
                mem_class.append(code)
                mem_adopt.append(int(self.past_adopt[pos]))
                mem_exit.append(int(self.past_exit[pos]))
                mem_reason.append("selected by risk matrix and professional judgement")
                mem_exit_reason.append(reason)
        k = len(mem_person)
        self.force.memberships = dict(
            id=np.arange(1, k + 1),
            source_id=np.char.add("SYN-M", np.char.zfill(np.arange(1, k + 1).astype(str), 7)),
            person_id=np.array(mem_person) + 1,
            classification_code=np.array(mem_class, dtype=object),
            adopted_on=np.array(mem_adopt),
            adoption_reason=np.array(mem_reason, dtype=object),
            exited_on=np.array(mem_exit),
            exit_reason=np.array(mem_exit_reason, dtype=object),
        )
        self._assemble_histories()

    def _assemble_histories(self) -> None:
        rng = self.rng
        levels = np.array(["High", "Medium", "Low"], dtype=object)
        r_person, r_level, r_from, r_reason = [], [], [], []
        m_person, m_from, m_type, m_agency, m_lomu, m_officer = [], [], [], [], [], []
        officers = self._officer_pool()
        off = self.offender
        lead_rules = lead_agency_rules()
        everyone = [(p, int(a), None, cl, lvl) for p, a, cl, lvl in
                    zip(self.members.tolist(), self.adopt, self.member_classes, self.member_risk)]
        everyone += [(p, int(a), int(e), cl, None) for p, a, e, cl in
                     zip(self.past.tolist(), self.past_adopt, self.past_exit, self.past_classes)]
        for person, adopt, exit_, classes, final in everyone:
            final = final or levels[int(rng.integers(0, 3))]
            last_day = exit_ if exit_ is not None else self.end
            first = levels[int(rng.integers(0, 3))] if last_day - adopt > 120 and rng.random() < 0.4 else final
            if first != final:
                r_person += [person, person]
                r_level += [first, final]
                r_from += [adopt, adopt + int(rng.integers(60, last_day - adopt))]
                r_reason += ["assessed at adoption", "reviewed at case conference"]
            else:
                r_person.append(person)
                r_level.append(final)
                r_from.append(adopt)
                r_reason.append("assessed at adoption")
            age = (adopt - off["dob"][person]) / YEAR
            lomu = self.npu_lomu[off["home"][person]]
            if "MAPPA" in classes and self.rng.random() < 0.6:
                otype = "Sex Offender Management"
            elif age < 18 or off["sex"][person] == "F":
                otype = "Vulnerable"
            elif set(classes) & {"OCG", "USG", "MAPPA"} or final == "High":
                otype = "Risk"
            else:
                otype = "Core"
            # The lead agency follows the force's rule (cohorts/data/lead-agency-v1.toml) on the
            # last day managed, so `iom check lead-agency` finds the synthetic force consistent.
            age_then = (last_day - off["dob"][person]) / YEAR
            allowed = lead_rules.applying(age=age_then, risk_level=final).agencies
            preferred = P.PREFERRED_LEAD_AGENCY.get(final)
            agency = preferred if preferred in allowed else allowed[0]
            m_person.append(person)
            m_from.append(adopt)
            m_type.append(otype)
            m_agency.append(agency)
            m_lomu.append(lomu)
            rng.integers(0, OLD_POOL)  # the main stream advances as it always has
            m_officer.append(officers.allocate(lomu, otype, final if exit_ is None else None))
        # Append-only histories: order by date, then person, so ids are stable.
        r = np.lexsort((np.array(r_person), np.array(r_from)))
        self.force.risk = dict(
            id=np.arange(1, r.size + 1),
            person_id=np.array(r_person)[r] + 1,
            level=np.array(r_level, dtype=object)[r],
            effective_from=np.array(r_from)[r],
            reason=np.array(r_reason, dtype=object)[r],
            recorded_by=np.full(r.size, "synthetic", dtype=object),
        )
        m = np.lexsort((np.array(m_person), np.array(m_from)))
        self.force.management = dict(
            id=np.arange(1, m.size + 1),
            person_id=np.array(m_person)[m] + 1,
            effective_from=np.array(m_from)[m],
            offender_type=np.array(m_type, dtype=object)[m],
            lead_agency=np.array(m_agency, dtype=object)[m],
            lomu_code=np.array(m_lomu, dtype=object)[m],
            officer=np.array(m_officer, dtype=object)[m],
            reason=np.full(m.size, "adopted", dtype=object),
        )

    def _officer_pool(self) -> OfficerPool:
        """A LOMU's offender managers, as many as its NPUs' officers (12 where none are recorded).
        Names come from a stream of their own; the main stream advances as it always has, so
        the rest of the force does not change with the number of officers."""
        male = NameProvider.first_names_male
        last = list(NameProvider.last_names.keys())
        names_rng = np.random.default_rng([self.spec.seed, OFFICER_STREAM])
        sizes: dict[str, int] = {}
        for npu, lomu in self.npu_lomu.items():
            sizes[lomu] = sizes.get(lomu, 0) + self.npu_officers.get(npu, 0)
        pools: dict[str, list[str]] = {}
        for lomu in sorted(set(self.npu_lomu.values())):
            for _ in range(OLD_POOL):
                self.rng.integers(0, len(male)), self.rng.integers(0, len(last))
            names: list[str] = []
            while len(names) < (sizes.get(lomu) or OLD_POOL):
                name = f"PC {male[int(names_rng.integers(0, len(male)))][0]}. {last[int(names_rng.integers(0, len(last)))]}"
                if name not in names:
                    names.append(name)
            pools[lomu] = names
        return OfficerPool(pools, names_rng)

    # -- the whole force ------------------------------------------------------------------
    def run(self) -> Force:
        steps = [
            ("people", self.make_people),
            ("IOM cohort", self.make_cohort),
            ("crimes", self.make_crimes),
            ("domestic abuse", self.make_domestic_abuse),
        ]
        for label, step in steps:
            self.progress(label)
            step()
        self.progress("outcomes")
        self._dob_all = np.concatenate([self.offender["dob"], self.victim["dob"]])
        self.assemble_crimes()
        self.progress("people and markers")
        self.assemble_people()
        self.make_markers()
        self.progress("cohort histories")
        self.assemble_cohort()
        return self.force
