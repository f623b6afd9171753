"""Headless Chromium for tests: Debian's `chromium` package driven by Playwright for Python (its own browser
download is never used; `.ci/run` installs the package).

    reason = chromium_unavailable_reason()   # None, or why the browser tests skip
    with chromium() as browser: page = browser.new_page(); page.goto(url)
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium"))


def chromium_unavailable_reason() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@contextmanager
def chromium(args: Sequence[str] = ()) -> Iterator[Any]:
    """A headless Chromium (Playwright's sync API), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(args))
        try:
            yield browser
        finally:
            browser.close()
