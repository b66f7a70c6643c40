"""Splink model specifications for people and companies, as data (nothing here touches a database).

The specification is dialect-neutral — ``SettingsCreator`` with comparison and blocking-rule
creators, plus a ``TrainingPlan`` — so ``salescope.engine.linkage`` can run it on DuckDB or
on Spark unchanged. All compared features are strings (dates as ISO text), which is what keeps
the settings free of dialect-specific date formats.

Each comparison level carries a prior m and u probability, so a small table (a notebook
sample, a workspace with a few hundred customers) is scored sensibly without training; on
larger tables u is re-estimated by random sampling (and, on request, m by expectation
maximisation on blocking rules), and the priors are only the starting point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

Kind = Literal["person", "company"]

# Below these sizes the data cannot support the estimate, and the priors are better.
MIN_ROWS_TO_TRAIN_U = 2000
U_MAX_PAIRS = 5e5
DEFAULT_THRESHOLD = 0.9
# Comparing every pair of records with the same name finds a customer who moved city, but 张伟
# is shared by thousands in a national file; above this many pairs, names are compared only
# together with a city, birth date, postcode or contact detail.
NAME_BLOCK_PAIR_BUDGET = 2_000_000


@dataclass(frozen=True)
class TrainingPlan:
    """What to estimate, on which rules; executed by ``salescope.engine.linkage``."""

    prior_rules: tuple[Any, ...] = ()
    prior_recall: float = 0.7
    train_u: bool = False
    u_max_pairs: float = U_MAX_PAIRS
    em_rules: tuple[Any, ...] = ()
    seed: int = 42
    adjust: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@dataclass(frozen=True)
class LinkageSpec:
    kind: Kind
    settings: SettingsCreator
    plan: TrainingPlan
    threshold: float = DEFAULT_THRESHOLD
    compared: tuple[str, ...] = field(default_factory=tuple)


def _level(level: Any, m: float, u: float) -> Any:
    return level.configure(m_probability=m, u_probability=u)


def _else(m: float, u: float) -> Any:
    return _level(cll.ElseLevel(), m, u)


def _long(col: str, min_length: int) -> Any:
    return cll.CustomLevel(f"length({col}_l) >= {min_length} AND length({col}_r) >= {min_length}")


def person_name_comparison() -> Any:
    """Exact (term-frequency adjusted: 张伟 is weaker evidence than 欧阳娜娜), same pinyin, then edits on pinyin.

    Distances are taken on the pinyin form, which is ASCII: DuckDB measures string distances in
    bytes and Spark in characters, and on ASCII the two agree.
    """
    exact = cll.ExactMatchLevel("name_key", term_frequency_adjustments=True)
    return cl.CustomComparison(
        output_column_name="name_key",
        comparison_description="person name",
        comparison_levels=[
            cll.NullLevel("name_translit"),
            _level(exact, 0.6, 0.002),
            _level(cll.ExactMatchLevel("name_translit"), 0.12, 0.002),
            _level(cll.And(cll.DamerauLevenshteinLevel("name_translit", 1), _long("name_translit", 8)), 0.12, 5e-4),
            _level(cll.DamerauLevenshteinLevel("name_translit", 2), 0.08, 0.01),
            _level(cll.JaroWinklerLevel("name_translit", 0.88), 0.04, 0.02),
            _else(0.04, 0.9655),
        ],
    )


def company_name_comparison() -> Any:
    """Exact key, same name apart from the region, same pinyin (华贸 / 华茂), one edit, then similar.

    No term-frequency adjustment: a registered company name is unique in its region, so a name
    that recurs in the data recurs because the company does, unlike 张伟.
    """
    return cl.CustomComparison(
        output_column_name="name_key",
        comparison_description="company name",
        comparison_levels=[
            cll.NullLevel("name_translit"),
            _level(cll.ExactMatchLevel("name_key"), 0.6, 1e-5),
            _level(cll.ExactMatchLevel("name_core"), 0.2, 1e-4),
            _level(cll.ExactMatchLevel("name_translit"), 0.06, 2e-4),
            _level(cll.And(cll.DamerauLevenshteinLevel("name_translit", 1), _long("name_translit", 6)), 0.06, 5e-4),
            _level(cll.JaroWinklerLevel("name_translit", 0.9), 0.04, 0.01),
            _else(0.04, 0.98929),
        ],
    )


def _exact_or_typo(col: str, m: tuple[float, float, float], u: tuple[float, float, float]) -> Any:
    """Same value, one transposed or mistyped character, or different (phones, birth dates)."""
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            _level(cll.ExactMatchLevel(col), m[0], u[0]),
            _level(cll.DamerauLevenshteinLevel(col, 1), m[1], u[1]),
            _else(m[2], u[2]),
        ],
    )


def _exact(col: str, m: float, u: float) -> Any:
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            _level(cll.ExactMatchLevel(col), m, u),
            _else(1 - m, 1 - u),
        ],
    )


def _similar(col: str, m: tuple[float, float, float], u: tuple[float, float, float]) -> Any:
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            _level(cll.ExactMatchLevel(col), m[0], u[0]),
            _level(cll.JaroWinklerLevel(col, 0.9), m[1], u[1]),
            _else(m[2], u[2]),
        ],
    )


def email_comparison() -> Any:
    """Exact, or similar with the same digits (a typo in the letters; not emily.flores30 vs emily.flores36)."""
    similar = cll.And(cll.JaroWinklerLevel("email", 0.88), cll.ExactMatchLevel("email_digits"))
    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            _level(cll.ExactMatchLevel("email"), 0.8, 1e-5),
            _level(similar, 0.1, 2e-4),
            _else(0.1, 0.99979),
        ],
    )


def _present(features: pd.DataFrame, col: str) -> bool:
    return col in features.columns and int(features[col].notna().sum()) >= 2


def _comparisons(features: pd.DataFrame, kind: Kind) -> list[tuple[str, Any]]:
    wanted: list[tuple[str, Any]] = []
    if kind == "person":
        wanted.append(("name_translit", person_name_comparison()))
        wanted.append(("phone", _exact_or_typo("phone", (0.75, 0.05, 0.2), (1e-5, 1e-4, 0.99989))))
        wanted.append(("email", email_comparison()))
        wanted.append(("birth_date", _exact_or_typo("birth_date", (0.88, 0.07, 0.05), (6e-5, 1e-3, 0.99894))))
        wanted.append(("id_number", _exact("id_number", 0.995, 1e-6)))
    else:
        wanted.append(("name_translit", company_name_comparison()))
        wanted.append(("phone", _exact("phone", 0.75, 1e-4)))
        wanted.append(("tax_id", _exact("tax_id", 0.995, 1e-6)))
    wanted.append(("address", _similar("address", (0.7, 0.15, 0.15), (1e-3, 4e-3, 0.995))))
    wanted.append(("city", _exact("city", 0.95, 0.1)))
    wanted.append(("postcode", _exact("postcode", 0.93, 0.08)))
    if not _present(features, "city"):
        wanted.append(("province", _exact("province", 0.95, 0.12)))
    return [(col, comp) for col, comp in wanted if _present(features, col)]


def _name_block_pairs(features: pd.DataFrame) -> int:
    """Pairs that blocking on the name alone would compare (Σ k(k−1)/2 over equal names)."""
    if "name_translit" not in features.columns:
        return 0
    counts = features["name_translit"].value_counts().to_numpy()
    return int((counts * (counts - 1) // 2).sum())


def _blocking(features: pd.DataFrame, kind: Kind) -> list[Any]:
    rules: list[tuple[tuple[str, ...], Any]] = []
    if kind == "person":
        rules += [
            (("name_translit", "city"), block_on("name_translit", "city")),
            (("name_translit", "birth_date"), block_on("name_translit", "birth_date")),
            (("name_translit", "postcode"), block_on("name_translit", "postcode")),
            (("phone",), block_on("phone")),
            (("email",), block_on("email")),
            (("id_number",), block_on("id_number")),
            (("birth_date", "name_translit"), block_on("birth_date", "substr(name_translit, 1, 2)")),
            (("address",), block_on("address")),
        ]
        if _name_block_pairs(features) <= NAME_BLOCK_PAIR_BUDGET:
            rules.append((("name_translit",), block_on("name_translit")))
    else:
        rules += [
            (("name_translit",), block_on("name_translit")),
            (("name_core",), block_on("name_core")),
            (("phone",), block_on("phone")),
            (("tax_id",), block_on("tax_id")),
            (("address",), block_on("address")),
            (("name_translit", "city"), block_on("substr(name_translit, 1, 4)", "city")),
        ]
    return [rule for cols, rule in rules if all(_present(features, c) for c in cols)]


def _training(features: pd.DataFrame, kind: Kind, compared: list[str], train_m: bool) -> TrainingPlan:
    n = len(features)
    train_u = n >= MIN_ROWS_TO_TRAIN_U
    em: list[Any] = []
    if train_m and train_u:
        for col in ("phone", "name_translit"):
            if col in compared:
                em.append(block_on(col))
    if not train_u and not em:
        return TrainingPlan()
    prior: list[Any] = []
    strong = "id_number" if kind == "person" else "tax_id"
    if strong in compared:
        prior.append(block_on(strong))
    if "phone" in compared:
        prior.append(block_on("name_translit", "phone"))
    return TrainingPlan(prior_rules=tuple(prior), train_u=train_u, em_rules=tuple(em))


def prior_u(settings: SettingsCreator) -> list[list[float | None]]:
    """The configured u of every level, by comparison and level position (as in the trained model)."""
    spec = settings.create_settings_dict("duckdb")
    return [[lv.get("u_probability") for lv in c["comparison_levels"]] for c in spec["comparisons"]]


def decontaminate_u(model: dict[str, Any], priors: list[list[float | None]]) -> dict[str, Any]:
    """Undo the share of true matches in u estimated from random pairs.

    Among random pairs a fraction λ are matches, so the observed rate of a level is
    λ·m + (1−λ)·u. Where matches make up more than a tenth of what was observed (exact phone,
    exact ID number: levels non-matches almost never reach) the observation says little about u,
    and the prior is kept; elsewhere (city, postcode, common names) the corrected estimate replaces it.
    """
    lam = float(model.get("probability_two_random_records_match") or 0.0)
    for comparison, prior_levels in zip(model.get("comparisons", []), priors, strict=False):
        levels = comparison["comparison_levels"]
        scored = [i for i, lv in enumerate(levels) if not lv.get("is_null_level")]
        for i in scored[:-1]:
            lv = levels[i]
            observed, m, prior = lv.get("u_probability"), lv.get("m_probability"), prior_levels[i]
            if observed is None or m is None:
                continue
            if lam * m > 0.1 * observed and prior is not None:
                lv["u_probability"] = prior
            else:
                lv["u_probability"] = max((observed - lam * m) / (1 - lam), 1e-9)
        if scored:
            rest = sum(float(levels[i].get("u_probability") or 0.0) for i in scored[:-1])
            levels[scored[-1]]["u_probability"] = max(1.0 - rest, 1e-6)
    return model


def linkage_spec(
    features: pd.DataFrame, kind: Kind, *, threshold: float = DEFAULT_THRESHOLD, train_m: bool = False
) -> LinkageSpec:
    """The model for one kind of record, using only the features that are actually filled in.

    m is estimated by EM (on phone and on name blocks) only when ``train_m`` is set: on the
    labelled benchmark EM did not beat the priors, and on sparse fields it can drive a level's m
    to zero, which Splink rejects (reported as ModelFitError).
    """
    comparisons = _comparisons(features, kind)
    compared = [col for col, _ in comparisons]
    n = max(len(features), 2)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[comp for _, comp in comparisons],
        blocking_rules_to_generate_predictions=_blocking(features, kind),
        # Without training, assume each record has about one duplicate among the others.
        probability_two_random_records_match=min(0.5, 1.0 / n),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        max_iterations=20,
    )
    plan = _training(features, kind, compared, train_m)
    if plan.train_u:
        plan = replace(plan, adjust=partial(decontaminate_u, priors=prior_u(settings)))
    return LinkageSpec(kind, settings, plan, threshold, tuple(compared))
