"""Local settings and the local org (stores, guides, offline profile)."""

from __future__ import annotations

import pytest

from guide_app.db.models import Guide, Store
from guide_app.db.state import set_setting
from guide_app.domain.errors import UserError
from guide_app.domain.stages import StageThresholds
from guide_app.services.context import AppContext
from guide_app.services.org import OrgService, ensure_local_profile
from guide_app.services.settings import STAGE_THRESHOLDS_KEY, SettingsService


def test_language_round_trip_and_refusal(ctx: AppContext) -> None:
    s = SettingsService(ctx)
    assert s.language() == "zh_CN"
    s.set_language("en")
    assert s.language() == "en"
    with pytest.raises(UserError) as err:
        s.set_language("fr")
    assert err.value.key == "settings.bad_language" and s.language() == "en"


def test_stage_thresholds_validated_and_unreadable_values_fall_back(ctx: AppContext) -> None:
    s = SettingsService(ctx)
    assert s.stage_thresholds() == StageThresholds()
    s.set_stage_thresholds(StageThresholds(14, 60, 120))
    assert s.stage_thresholds() == StageThresholds(14, 60, 120)
    for bad in (StageThresholds(0, 60, 120), StageThresholds(14, 120, 120), StageThresholds(14, 60, 99_999)):
        with pytest.raises(UserError) as err:
            s.set_stage_thresholds(bad)
        assert err.value.key == "stage.bad_thresholds"
    assert s.stage_thresholds() == StageThresholds(14, 60, 120)
    with ctx.db.write() as session:  # a hand-edited file
        set_setting(session, STAGE_THRESHOLDS_KEY, {"new_days": "x", "sleeping_days": 5})
    assert s.stage_thresholds() == StageThresholds()


def test_generic_remembered_values(ctx: AppContext) -> None:
    s = SettingsService(ctx)
    mapping = {"姓名": "name", "手机": "phone"}
    s.set("import.mapping.abc123", mapping)
    assert s.get("import.mapping.abc123") == mapping
    assert s.get("missing", 7) == 7
    with pytest.raises(UserError):
        s.set("", 1)
    with pytest.raises(UserError):
        s.set("k" * 81, 1)


def test_local_profile_is_created_once_and_reused(ctx: AppContext) -> None:
    db = ctx.db
    first = ensure_local_profile(db, " 我的小店 ", "李娜")
    assert first.role == "store_manager" and first.name == "李娜"
    again = ensure_local_profile(db, "我的小店", "李娜")
    assert again == first
    second = ensure_local_profile(db, "我的新店名", "王芳")
    assert second.store_id == first.store_id and second.role == "guide"
    org = OrgService(AppContext(db, second))
    store = org.store()
    assert store is not None and store.name == "我的新店名"
    assert org.is_local_store()
    assert [g.name for g in org.guides()] == ["李娜", "王芳"]
    assert org.guide_name(first.guide_id) == "李娜" and org.guide_name("nobody") == "" and org.guide_name("") == ""
    for store_name, guide_name, key in [("", "x", "org.store_name_required"), ("x", " ", "org.guide_name_required"),
                                        ("x" * 101, "y", "org.name_too_long")]:
        with pytest.raises(UserError) as err:
            ensure_local_profile(db, store_name, guide_name)
        assert err.value.key == key


def test_guides_of_the_store_hide_departed_unless_asked(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        s.add(Store(id="store-1", name="上海来福士店", region_id="r1", region_name="华东区"))
        s.add_all([Guide(id="g1", store_id="store-1", name="张伟", role="store_manager"),
                   Guide(id="g2", store_id="store-1", name="李娜"),
                   Guide(id="g3", store_id="store-1", name="王芳", active=False),
                   Guide(id="g4", store_id="store-2", name="赵敏")])
    org = OrgService(ctx)
    assert [g.id for g in org.guides()] == ["g2", "g1"]  # pinyin order: li before zhang
    assert [g.id for g in org.guides(include_inactive=True)][-1] == "g3"
    store = org.store()
    assert store is not None and store.region_name == "华东区"
    assert not org.is_local_store()
