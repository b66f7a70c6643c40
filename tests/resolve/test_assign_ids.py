"""assign_ids: the deterministic identity step every import goes through."""

from __future__ import annotations

import pandas as pd

from salescope.resolve.identity import SOURCE_COLUMNS, assign_ids


def _batch() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["K1", None, "k1 ", None, None, None, None],
            "name": ["華貿科技（北京）有限公司", "北京华贸科技有限公司", "华贸", "张伟", "张伟", None, None],
            "phone": ["010-62345678", None, None, "13812345678", "138 1234 5678", "13900001111", None],
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )


def test_strong_keys_group_records_and_anonymous_rows_get_no_id() -> None:
    a = assign_ids(_batch(), pd.DataFrame())
    assert a.ids.index.tolist() == [10, 11, 12, 13, 14, 15, 16]
    ids = a.ids.tolist()
    # K1 and k1 are one code; the second row spells the same company (bracketed region moved, traditional
    # script folded) and joins it through the name key the first row registered.
    assert ids[0] == ids[1] == ids[2] == "C000001"
    # Same name and the same phone in two formats: one person.
    assert ids[3] == ids[4] == "C000002"
    assert ids[5] == "C000003"
    assert pd.isna(a.ids.loc[16])
    assert list(a.new_sources.columns) == list(SOURCE_COLUMNS)
    assert a.new_sources["source_key"].is_unique
    ent = a.new_entities.set_index("id")
    assert ent.loc["C000001", "kind"] == "company"
    assert ent.loc["C000002", "kind"] == "person"
    assert ent.loc["C000002", "phone"] == "+8613812345678"
    assert ent.loc["C000003", "kind"] is None


def test_known_keys_reuse_ids_and_new_ids_continue_the_sequence() -> None:
    first = assign_ids(_batch(), pd.DataFrame())
    again = assign_ids(_batch(), first.new_sources)
    assert again.ids.tolist() == first.ids.tolist()
    assert again.new_sources.empty and again.new_entities.empty

    second = pd.DataFrame({"name": ["北京华贸科技", "张伟", "李四"], "phone": [None, "+86 138-1234-5678", None]})
    b = assign_ids(second, first.new_sources)
    assert b.ids.tolist() == ["C000001", "C000002", "C000004"]
    assert b.new_sources["source_key"].tolist() == ["name:李四"]


def test_conflicting_phone_keeps_a_similar_company_apart() -> None:
    records = pd.DataFrame(
        {"name": ["北京华贸科技有限公司", "北京华茂科技有限公司"], "phone": ["010-62345678", "010-69998888"]}
    )
    a = assign_ids(records, pd.DataFrame())
    assert a.ids.nunique() == 2


def test_person_with_another_phone_is_not_matched_on_name_alone() -> None:
    first = assign_ids(pd.DataFrame({"name": ["张伟"], "phone": ["13812345678"]}), pd.DataFrame())
    b = assign_ids(pd.DataFrame({"name": ["张伟"], "phone": ["13900002222"]}), first.new_sources)
    assert b.ids.iloc[0] != first.ids.iloc[0]


def test_a_known_code_wins_over_a_different_spelling() -> None:
    first = assign_ids(pd.DataFrame({"code": ["A7"], "name": ["Acme Trading Co., Ltd."]}), pd.DataFrame())
    b = assign_ids(pd.DataFrame({"code": ["a7"], "name": ["Completely Renamed GmbH"]}), first.new_sources)
    assert b.ids.iloc[0] == first.ids.iloc[0]
    assert b.new_sources["evidence"].tolist() == ["code"]


def test_valid_tax_id_links_a_new_code_to_the_existing_identity() -> None:
    uscc = "91110108MA01C2LT9G"
    first = assign_ids(pd.DataFrame({"code": ["A1"], "name": ["甲公司"], "tax_id": [uscc]}), pd.DataFrame())
    b = assign_ids(
        pd.DataFrame({"code": ["ERP-9"], "name": ["甲有限公司"], "tax_id": [uscc.lower()]}), first.new_sources
    )
    assert b.ids.iloc[0] == first.ids.iloc[0]


def test_ids_are_deterministic_and_continue_after_existing_ids() -> None:
    sources = pd.DataFrame(
        {
            "source_key": ["code:X"],
            "source_code": ["X"],
            "source_name": [None],
            "customer_id": ["C000041"],
            "evidence": ["new"],
            "score": [1.0],
        }
    )
    records = pd.DataFrame({"name": ["乙", "甲", "乙"]})
    a = assign_ids(records, sources)
    b = assign_ids(records, sources)
    assert a.ids.tolist() == b.ids.tolist() == ["C000042", "C000043", "C000042"]


def test_supplier_prefix_and_missing_columns() -> None:
    a = assign_ids(pd.DataFrame({"code": ["V1", "V2", None]}), pd.DataFrame(), prefix="S")
    assert a.ids.tolist()[:2] == ["S000001", "S000002"]
    assert pd.isna(a.ids.iloc[2])
    supplier_sources = a.new_sources.rename(columns={"customer_id": "supplier_id"})
    again = assign_ids(pd.DataFrame({"code": ["v2", "V9"]}), supplier_sources, prefix="S")
    assert again.ids.tolist() == ["S000002", "S000003"]
    empty = assign_ids(pd.DataFrame({"name": pd.Series([], dtype="object")}), pd.DataFrame())
    assert empty.ids.empty and empty.new_entities.empty


def test_a_known_code_with_a_contradicting_tax_id_is_not_trusted() -> None:
    # Both codes are valid GB 32100 codes (check characters computed by uscc_check_char in normalize).
    first = assign_ids(
        pd.DataFrame({"code": ["A1"], "name": ["甲公司"], "tax_id": ["91110108MA01C2LT9G"]}), pd.DataFrame()
    )
    other = "91310115MA1K3YJ83T"
    reused = pd.DataFrame({"code": ["A1"], "name": ["乙公司"], "tax_id": [other]})
    b = assign_ids(reused, first.new_sources)
    assert b.ids.iloc[0] != first.ids.iloc[0]
    assert "tax:" + other in set(b.new_sources["source_key"])
