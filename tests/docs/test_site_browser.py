"""The built site: no broken internal links, nothing loaded from the network, and it renders.

The site is built with ``mkdocs build --strict -d build/site`` unless ``make docs`` already
built it after the last change to docs/, mkdocs.yml or src/. The link and offline checks
read the HTML and need no browser. The rendering check serves build/site on loopback and
opens the home page, a guide, an API reference page and the performance page in headless
Chromium (driven over the DevTools protocol by tests/docs/_cdp.py): no console errors, no
failed requests, no request leaving the machine, images decoded. Screenshots go to
build/screenshots/ (CI keeps them as artifacts).

Chromium is Debian's ``chromium`` package. When /usr/bin/chromium is missing the setup runs
``apt-get install -y chromium`` (as root; ``apt-get update`` first if needed). If it still
cannot be had the browser test is skipped with the reason, or fails when
``BACKENDKIT_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import functools
import http.server
import os
import posixpath
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from tests.docs._cdp import Browser

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "site"
SCREENSHOTS = ROOT / "build" / "screenshots"
INPUTS = [ROOT / "docs", ROOT / "src" / "backendkit", ROOT / "mkdocs.yml"]

#: Pages opened in the browser: (screenshot name, path under the site root).
PAGES = [
    ("home", ""),
    ("guide-tokens", "guide/tokens/"),
    ("reference-responses", "reference/responses/"),
    ("performance", "performance/"),
]

# Building the site takes ~15 s and the first browser run may install Chromium.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


# --------------------------------------------------------------------------- the site


def _newest_input() -> float:
    newest = 0.0
    for path in INPUTS:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(f.stat().st_mtime for f in files if "__pycache__" not in f.parts)])
    return newest


@pytest.fixture(scope="module")
def site() -> Path:
    """build/site, (re)built with ``mkdocs build --strict`` when older than its inputs."""
    index = SITE / "index.html"
    if not index.is_file() or index.stat().st_mtime < _newest_input():
        mkdocs = Path(sys.executable).with_name("mkdocs")
        result = subprocess.run(
            [str(mkdocs), "build", "--strict", "--site-dir", str(SITE)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        )
        assert result.returncode == 0, "mkdocs build --strict failed:\n" + result.stderr[-6000:]
    return SITE


class _Links(HTMLParser):
    """Collects ids and every href/src (with the tag) of one HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif name in ("href", "src") or (tag == "link" and name == "href"):
                self.refs.append((tag, name, value))


@functools.cache
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def _target(site: Path, page: Path, ref: str) -> tuple[Path, str]:
    """The file an internal reference resolves to, and its fragment."""
    parts = urlsplit(ref)
    base = page.relative_to(site).parent.as_posix()
    joined = posixpath.normpath(posixpath.join(base, unquote(parts.path))) if parts.path else ""
    # An absolute path ("/assets/x") is resolved from the site root (served at "/").
    target = site / joined.lstrip("/") if parts.path else page
    if parts.path and (parts.path.endswith("/") or target.is_dir()):
        target = target / "index.html"
    return target, unquote(parts.fragment)


def _is_internal(ref: str) -> bool:
    parts = urlsplit(ref)
    return not parts.scheme and not ref.startswith("//")


def test_no_broken_internal_links(site: Path) -> None:
    """Every internal href/src of every built page points at a file, and at an existing id."""
    broken = []
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        for tag, attribute, ref in _parse(page).refs:
            if not _is_internal(ref) or ref.startswith(("mailto:", "javascript:")):
                continue
            target, fragment = _target(site, page, ref)
            where = f"{page.relative_to(site)}: <{tag} {attribute}={ref!r}>"
            if not target.is_file():
                broken.append(f"{where} -> missing {target.relative_to(site)}")
            elif fragment and target.suffix == ".html" and fragment not in _parse(target).ids:
                broken.append(f"{where} -> no id {fragment!r}")
    assert broken == [], "\n".join(broken[:50])


def test_link_checker_finds_a_broken_link(tmp_path: Path) -> None:
    """Twin of the check above: a missing page and a missing anchor are both reported."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h1 id="top">A</h1><a href="../b/">b</a>')
    (tmp_path / "index.html").write_text('<a href="a/#top">ok</a><a href="a/#nope">x</a>')
    page = tmp_path / "index.html"
    assert _target(tmp_path, page, "a/#top") == (tmp_path / "a" / "index.html", "top")
    target, fragment = _target(tmp_path, page, "a/#nope")
    assert fragment not in _parse(target).ids
    missing, _ = _target(tmp_path, tmp_path / "a" / "index.html", "../b/")
    assert not missing.is_file()


_REMOTE_CSS = re.compile(r"""(@import\s+(url\()?|url\()\s*["']?(https?:)?//""", re.IGNORECASE)


def test_site_loads_nothing_from_the_network(site: Path) -> None:
    """No script, stylesheet, font, image or iframe is fetched from another host."""
    remote = []
    for page in sorted(site.rglob("*.html")):
        for tag, attribute, ref in _parse(page).refs:
            loads = tag in ("script", "img", "iframe", "source", "video", "audio") or (
                tag == "link" and attribute == "href"
            )
            if loads and not _is_internal(ref):
                # <link rel="canonical"/"alternate"> would be fine, but mkdocs writes none
                # without site_url; anything here is a fetch.
                remote.append(f"{page.relative_to(site)}: <{tag} {attribute}={ref!r}>")
    for sheet in sorted(site.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        remote.extend(
            f"{sheet.relative_to(site)}: {m.group(0)}" for m in _REMOTE_CSS.finditer(text)
        )
    assert remote == [], "\n".join(remote[:50])


# --------------------------------------------------------------------------- the browser


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    for step in ([], [["apt-get", "update"]]):
        for command in [*step, install]:
            subprocess.run(command, env=env, capture_output=True, timeout=900, check=False)
        if found := shutil.which("chromium"):
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, installed with apt-get when missing."""
    executable = _chromium()
    if executable is None:
        reason = "chromium is not installed and 'apt-get install -y chromium' failed"
        if os.environ.get("BACKENDKIT_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    instance = Browser(executable)
    try:
        yield instance
    finally:
        instance.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """build/site served on a free loopback port: yields ``host:port``."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_page_renders_without_errors(name: str, path: str, browser: Browser, server: str) -> None:
    """The page loads in Chromium with no console error, no failed or off-machine request."""
    with browser.tab() as tab:
        report = tab.open(f"http://{server}/{path}", local_host=server)
        tab.screenshot(SCREENSHOTS / f"{name}.png")
    assert not report.errors, "\n".join(report.errors)
    assert not report.external_requests, "\n".join(report.external_requests)
    assert not report.broken_images, "\n".join(report.broken_images)
    assert report.heading, f"{path or 'home'} rendered no heading"
    assert "backendkit" in report.title


def test_browser_check_sees_errors(browser: Browser, server: str, site: Path) -> None:
    """Twin of the check above: a page with a script error and a missing image is reported."""
    bad = site / "_browser_twin.html"
    bad.write_text(
        "<title>backendkit twin</title><article><h1>t</h1></article>"
        '<img src="missing.png"><script>console.error("boom"); undefined_call();</script>'
    )
    try:
        with browser.tab() as tab:
            report = tab.open(f"http://{server}/_browser_twin.html", local_host=server)
    finally:
        bad.unlink()
    joined = "\n".join(report.errors)
    assert "boom" in joined
    assert "undefined_call" in joined
    assert "missing.png" in joined
    assert report.broken_images
