"""Re-extract the English catalogues: ``.venv/bin/python locale/extract.py``.

Same as ``manage.py makemessages -l en --no-obsolete`` for both domains, plus two keywords
xgettext does not know by default:
  * ``_lazy``  -- modules that import ``gettext_lazy as _lazy`` next to ``gettext as _``;
  * ``t``      -- static/js aliases ``window.gettext`` as ``t``.
Plain makemessages would silently drop those strings (and --no-obsolete would delete their
translations). After extracting: translate the empty msgstrs, then
``.venv/bin/python manage.py compilemessages --ignore=.venv`` and commit the .po and .mo files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
IGNORE = [".venv", "var", "tests", "bench", "control", "staticfiles", "node_modules"]


def main() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.chdir(BASE_DIR)
    from config.env import settings_module

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module())
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.commands.makemessages import Command

    class PythonAndTemplates(Command):
        xgettext_options = [*Command.xgettext_options, "--keyword=_lazy"]

    class JavaScript(Command):
        xgettext_options = [*Command.xgettext_options, "--keyword=t"]

    call_command(PythonAndTemplates(), locale=["en"], no_obsolete=True, ignore_patterns=IGNORE)
    call_command(JavaScript(), domain="djangojs", locale=["en"], no_obsolete=True,
                 ignore_patterns=[*IGNORE, "static/vendor"])


if __name__ == "__main__":
    main()
