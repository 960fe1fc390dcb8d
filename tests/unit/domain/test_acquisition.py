from __future__ import annotations

from guide_app.domain.acquisition import edited_source, import_source, is_import, shown_source


def test_import_mark_round_trip() -> None:
    assert import_source("") == "import" and import_source(" 老会员 ") == "import:老会员"
    assert import_source("import:老会员") == "import:老会员"  # re-importing an export keeps one mark
    assert is_import("import") and is_import("import:门店") and not is_import("门店") and not is_import("important")
    assert shown_source("import") == "" and shown_source("import:老会员") == "老会员" and shown_source("门店") == "门店"
    assert edited_source("import:老会员", "老会员") == "import:老会员"  # untouched in the form: the mark stays
    assert edited_source("import:老会员", "朋友介绍") == "朋友介绍"
    assert edited_source("", "") == "" and len(import_source("x" * 120)) == 100
