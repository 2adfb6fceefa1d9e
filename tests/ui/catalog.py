"""The msgids the app uses: its UI's Python (``N_``, ``gettext``, ``tr``, ``app.t``) and ``.kv`` rules
(``app.t('...')``), and the UI-free core's ``N_``/``gettext`` (the form model's sections and problems)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

import peacewatch.mobile.ui

UI = Path(peacewatch.mobile.ui.__file__).parent
CORE = UI.parent / "core"
_KV_CALL = re.compile(r"""app\.t\(\s*(['"])(.*?)(?<!\\)\1""")


def ui_msgids() -> set[str]:
    found = extract_from_dir(str(UI), method_map=[("**.py", "python")],
                             keywords={"N_": None, "gettext": None, "tr": None, "t": None})
    found = [*found, *extract_from_dir(str(CORE), method_map=[("**.py", "python")], keywords={"N_": None, "gettext": None})]
    ids = {msg for _f, _l, msg, _c, _ctx in found if isinstance(msg, str)}
    for kv in UI.rglob("*.kv"):
        ids |= {m.group(2) for m in _KV_CALL.finditer(kv.read_text(encoding="utf-8"))}
    return ids
