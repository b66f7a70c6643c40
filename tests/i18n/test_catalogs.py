"""Both catalogs carry the same messages, and every message a template asks for exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from salescope.i18n import translate
from salescope.i18n.catalog import all_keys, catalog
from salescope.services.auth import ROLES
from salescope.services.customers import _PROFILE_FIELDS, _SCORE_FIELDS

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "salescope" / "web" / "templates"
WEB = TEMPLATES.parent


def test_catalogs_have_the_same_keys() -> None:
    keys = all_keys()
    assert keys["zh-CN"] == keys["en"]


def test_placeholders_agree_between_languages() -> None:
    fields = string.Formatter()
    for key, zh in catalog("zh-CN").items():
        en = catalog("en")[key]
        assert {f for _, f, _, _ in fields.parse(zh) if f} == {f for _, f, _, _ in fields.parse(en) if f}, key


def test_every_message_used_in_templates_and_code_exists() -> None:
    used: set[str] = set()
    for path in [*TEMPLATES.glob("*.html"), *WEB.rglob("*.py")]:
        used |= set(re.findall(r"""\bt(?:ranslate)?\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text("utf-8")))
    # Keys built at run time: role names, customer fields and the chart labels.
    used |= {f"chart.{k}" for k in ("revenue", "orders", "customers")}
    used |= {f"role.{r}" for r in ROLES}
    used |= {f"field.{f}" for f in (*_PROFILE_FIELDS, *_SCORE_FIELDS)}
    assert len(used) > 50, "the key pattern found too little; the test would prove nothing"
    missing = used - set(catalog("zh-CN"))
    assert not missing


def test_translate_fills_placeholders_and_shows_unknown_ids() -> None:
    assert translate("customers.count", "zh-CN", total="1,234") == "共 1,234 位客户"
    assert translate("customers.count", "en", total="1,234") == "1,234 customers"
    assert translate("no.such.key", "en") == "no.such.key"


def test_empty_state_wording_is_pinned() -> None:
    assert catalog("zh-CN")["overview.not_analysed"] == "尚未分析 — 运行 salescope analyze"
