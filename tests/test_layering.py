"""Which module may import what: domain code stays free of the API package."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_domain_errors_and_money_do_not_import_drf():
    code = (
        "import sys, config.errors, config.money; "
        "bad = sorted(m for m in sys.modules if m.startswith(('rest_framework', 'config.api'))); "
        "assert not bad, bad"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_api_keeps_the_domain_errors_importable_by_their_old_names():
    import config.api.errors as api_errors
    import config.errors as errors

    for name in ("WaybillError", "InvalidInput", "NotFound", "Conflict", "Unprocessable"):
        assert getattr(api_errors, name) is getattr(errors, name)
