"""English as the second UI language: the switch, the pages, and the catalogues in locale/en.

The catalogue checks parse the committed .po files directly (no gettext tools needed) and read
the committed .mo files through the standard library, so a string added later without an
English translation, or a .po edited without recompiling, fails the build.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from residents.models import Resident

MESSAGES = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
DOMAINS = ["django", "djangojs"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def po_entries(path: Path) -> list[Entry]:
    """A small .po reader: active entries (obsolete #~ ones are skipped), header excluded."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current, target
        if current.msgid or current.msgstr or current.msgid_plural:
            entries.append(current)
        current, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        value = ast.literal_eval(rest) if rest else ""
        if keyword == "msgctxt":
            current.msgctxt, target = value, ("msgctxt", 0)
        elif keyword == "msgid":
            current.msgid, current.line, target = value, number, ("msgid", 0)
        elif keyword == "msgid_plural":
            current.msgid_plural, target = value, ("msgid_plural", 0)
        elif keyword == "msgstr":
            current.msgstr[0], target = value, ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            current.msgstr[index], target = value, ("msgstr", index)
        elif keyword == "" and target is not None:
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    return [entry for entry in entries if entry.msgid]


def describe(domain: str, entry: Entry) -> str:
    return f"{domain}.po:{entry.line} {entry.msgid!r}"


@pytest.fixture
def english(client: Client) -> Client:
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_home_page_speaks_chinese_by_default(client: Client) -> None:
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "有事您说话" in page and "我要反映诉求" in page
    assert "Tell Us" not in page
    # The switch offers English.
    assert 'name="language" value="en"' in page


@pytest.mark.django_db
def test_switching_to_english_translates_the_home_page_and_offers_chinese_back(
    english: Client,
) -> None:
    page = english.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Tell Us" in page
    assert "Submit a petition" in page
    assert "Community Governance Portal" in page
    assert "有事您说话" not in page and "我要反映诉求" not in page
    assert 'name="language" value="zh-hans"' in page


@pytest.mark.django_db
def test_switching_back_to_chinese_restores_the_chinese_page(english: Client) -> None:
    english.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = english.get("/").content.decode()
    assert "有事您说话" in page and "Tell Us" not in page


@pytest.mark.django_db
def test_a_browser_asking_for_english_gets_english(client: Client) -> None:
    page = client.get("/", headers={"accept-language": "en-US,en;q=0.9"}).content.decode()
    assert "Tell Us" in page and "有事您说话" not in page


@pytest.mark.django_db
def test_an_unknown_language_falls_back_to_chinese(client: Client) -> None:
    page = client.get("/", headers={"accept-language": "fr-FR,fr;q=0.9"}).content.decode()
    assert "有事您说话" in page


@pytest.mark.django_db
def test_the_admin_login_speaks_english_after_switching(english: Client) -> None:
    page = english.get("/admin/login/").content.decode()
    assert "Username" in page and "Password" in page and "Log in" in page
    assert "用户名" not in page


@pytest.mark.django_db
def test_the_admin_login_speaks_chinese_by_default(client: Client) -> None:
    page = client.get("/admin/login/").content.decode()
    assert "用户名" in page and "密码" in page


@pytest.mark.django_db
def test_the_resident_sign_in_page_speaks_english(english: Client) -> None:
    page = english.get(reverse("accounts:login")).content.decode()
    assert "Sign in" in page
    assert "登录" not in page


@pytest.mark.django_db
def test_the_resident_petition_form_speaks_english(
    english: Client, resident_user: User, resident_record: Resident
) -> None:
    """Its labels are wrapped with the ``_lazy`` alias, which plain makemessages misses."""
    english.force_login(resident_user)
    page = english.get(reverse("petitions:create")).content.decode()
    assert "Photos (up to 3)" in page
    assert "Submit anonymously" in page
    assert "照片（最多" not in page and "匿名反映" not in page


@pytest.mark.django_db
def test_a_form_error_is_shown_in_english(english: Client) -> None:
    page = english.post(reverse("accounts:login"), {"username": "nobody", "password": "x"})
    assert "Incorrect username or password." in page.content.decode()


@pytest.mark.django_db
def test_the_javascript_catalogue_carries_english(english: Client) -> None:
    catalogue = english.get(reverse("javascript-catalog")).content.decode()
    assert '"\\u5269\\u4f59": "Remaining"' in catalogue or '"剩余": "Remaining"' in catalogue


# --- catalogues -------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_has_an_english_translation(domain: str) -> None:
    entries = po_entries(MESSAGES / f"{domain}.po")
    assert entries, f"{domain}.po is empty"
    untranslated = [
        describe(domain, entry)
        for entry in entries
        if not entry.msgstr or not all(text.strip() for text in entry.msgstr.values())
    ]
    assert not untranslated, "untranslated (run makemessages, translate, compilemessages):\n" + (
        "\n".join(untranslated)
    )


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_translation_is_fuzzy_and_plurals_have_both_forms(domain: str) -> None:
    entries = po_entries(MESSAGES / f"{domain}.po")
    fuzzy = [describe(domain, entry) for entry in entries if "fuzzy" in entry.flags]
    assert not fuzzy, "fuzzy entries are ignored by compilemessages:\n" + "\n".join(fuzzy)
    plurals = [entry for entry in entries if entry.msgid_plural]
    assert all(sorted(entry.msgstr) == [0, 1] for entry in plurals)


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_every_placeholder(domain: str) -> None:
    broken = [
        f"{describe(domain, entry)} -> {text!r}"
        for entry in po_entries(MESSAGES / f"{domain}.po")
        for text in entry.msgstr.values()
        if sorted(PLACEHOLDER.findall(text))
        != sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
    ]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_committed_mo_matches_the_po(domain: str) -> None:
    """A .po edited without compilemessages would ship stale English: compare both files."""
    with (MESSAGES / f"{domain}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries(MESSAGES / f"{domain}.po"):
        prefix = f"{entry.msgctxt}\x04" if entry.msgctxt is not None else ""
        if entry.msgid_plural:
            got = {
                0: compiled.ngettext(prefix + entry.msgid, prefix + entry.msgid_plural, 1),
                1: compiled.ngettext(prefix + entry.msgid, prefix + entry.msgid_plural, 2),
            }
        else:
            got = {0: compiled.gettext(prefix + entry.msgid)}
        if got != entry.msgstr:
            stale.append(describe(domain, entry))
    assert not stale, "run compilemessages --ignore=.venv:\n" + "\n".join(stale)


def test_the_home_page_strings_are_in_the_catalogue() -> None:
    """Guards the reader itself: a known multi-line-wrapped entry is found and translated."""
    entries = {entry.msgid: entry for entry in po_entries(MESSAGES / "django.po")}
    assert entries["有事您说话"].msgstr == {0: "Tell Us"}
    long_one = "%(street)s · 社区治理门户：诉求“7135”快速响应、每月15日议事日、党员志愿服务。"
    assert "7135" in entries[long_one].msgstr[0]


# --- sources ----------------------------------------------------------------------------------

SOURCE_SKIP = {".venv", "var", "tests", "bench", "control", "migrations", "locale", "staticfiles"}
TRANSLATION_FUNCTIONS = {
    "gettext": 0, "gettext_lazy": 0, "gettext_noop": 0,
    "ngettext": 0, "ngettext_lazy": 0, "pgettext": 1, "pgettext_lazy": 1,
}
TEMPLATE_STRING = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(?P<quote>["'])(?P<text>.*?)(?P=quote)"""
    r"""|\b_\((?P<quote2>["'])(?P<text2>.*?)(?P=quote2)\)"""
)
JS_STRING = re.compile(r"""\b(?:t|gettext)\((?P<quote>["'])(?P<text>[^"'\\]*)(?P=quote)\)""")


def source_files(pattern: str) -> list[Path]:
    base = Path(settings.BASE_DIR)
    return [
        path for path in sorted(base.rglob(pattern))
        if not SOURCE_SKIP.intersection(path.relative_to(base).parts)
    ]


def python_msgids(path: Path) -> set[str]:
    """String literals passed to django.utils.translation functions, whatever the local alias."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {
        alias.asname or alias.name: TRANSLATION_FUNCTIONS[alias.name]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in TRANSLATION_FUNCTIONS
    }
    found = set()
    for node in ast.walk(tree):
        is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if is_call and node.func.id in aliases:
            position = aliases[node.func.id]
            if len(node.args) > position:
                argument = node.args[position]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found.add(argument.value)
    return found


def wrapped_strings_in_sources() -> dict[str, set[tuple[str, str]]]:
    base = Path(settings.BASE_DIR)
    found: dict[str, set[tuple[str, str]]] = {"django": set(), "djangojs": set()}
    for path in source_files("*.py"):
        found["django"].update((str(path.relative_to(base)), text) for text in python_msgids(path))
    for path in source_files("*.html") + source_files("*.txt"):
        for match in TEMPLATE_STRING.finditer(path.read_text(encoding="utf-8")):
            if match.group("text") is not None:
                # {% translate %} looks its text up with each % doubled (django.template.base
                # Variable), as makemessages extracts it.
                text = match.group("text").replace("%", "%%")
            else:
                text = match.group("text2")
            found["django"].add((str(path.relative_to(base)), text))
    for path in source_files("*.js"):
        if "vendor" in path.parts:
            continue
        for match in JS_STRING.finditer(path.read_text(encoding="utf-8")):
            found["djangojs"].add((str(path.relative_to(base)), match.group("text")))
    return found


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_wrapped_string_in_the_sources_is_in_the_catalogue(domain: str) -> None:
    """A string wrapped for translation but never extracted would show Chinese to English users.

    This also catches aliases xgettext does not know (e.g. ``gettext_lazy as _lazy``): extract
    those with an extra --keyword, as locale/extract.py does.
    """
    translated = {
        entry.msgid for entry in po_entries(MESSAGES / f"{domain}.po")
        if all(text.strip() for text in entry.msgstr.values())
    }
    missing = sorted(
        f"{where}: {text!r}" for where, text in wrapped_strings_in_sources()[domain]
        if text and text not in translated
    )
    hint = "not in the English catalogue (run locale/extract.py, then translate):\n"
    assert not missing, hint + "\n".join(missing)
