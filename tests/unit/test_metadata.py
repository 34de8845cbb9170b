"""Package metadata as PyPI shows it: project URLs, keywords, version, README, changelog.

The long description on PyPI is README.md, read by people who installed with pip and have no
clone: its links go to the documentation site, never to ``docs/`` paths, and ``make`` targets
appear only in the section for contributors working from a clone.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path
from typing import Any

import yaml

import backendkit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is pinned in constraints-py310.txt)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_REFERENCE = re.compile(r"^\[([^\]]+)\]:\s*(\S+)\s*$", re.MULTILINE)
_RELEASE = re.compile(r"^## \[([^\]]+)\](?: - (.+))?$", re.MULTILINE)


def _project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def _repo_url() -> str:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text("utf-8"))
    return str(config["repo_url"]).rstrip("/")


def _readme_sections() -> dict[str, str]:
    """README.md split at its ``## `` headings: heading -> body (the intro under "")."""
    sections: dict[str, str] = {}
    heading = ""
    for part in re.split(r"^(## .+)$", (ROOT / "README.md").read_text("utf-8"), flags=re.M):
        if part.startswith("## "):
            heading = part[3:].strip()
        else:
            sections[heading] = sections.get(heading, "") + part
    return sections


def test_project_urls_match_mkdocs() -> None:
    """Documentation, Source, Issues and Changelog are set, and agree with mkdocs.yml."""
    urls = _project()["project"]["urls"]
    repo = _repo_url()
    assert set(urls) == {"Documentation", "Source", "Issues", "Changelog"}
    assert urls["Source"] == repo
    assert urls["Issues"] == f"{repo}/issues"
    assert urls["Changelog"] == f"{repo}/blob/main/CHANGELOG.md"
    assert urls["Documentation"].startswith("https://")
    assert urls["Documentation"].endswith("/")


def test_keywords_are_listed() -> None:
    """Keywords help people find the package: non-empty, unique, lower case."""
    keywords = _project()["project"]["keywords"]
    assert len(keywords) >= 5
    assert len(set(keywords)) == len(keywords)
    assert all(k == k.lower() and k.strip() == k and k for k in keywords)


def test_version_is_written_once() -> None:
    """pyproject.toml reads the version from ``__version__``; the installed metadata agrees."""
    project = _project()
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    path = project["tool"]["hatch"]["version"]["path"]
    assert (ROOT / path).resolve() == Path(backendkit.__file__).resolve()
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.dev\d+)?", backendkit.__version__)
    assert importlib.metadata.version("backendkit") == backendkit.__version__


def test_readme_links_work_without_a_clone() -> None:
    """Every link in README.md is absolute; documentation links name existing pages."""
    docs = _project()["project"]["urls"]["Documentation"]
    text = (ROOT / "README.md").read_text("utf-8")
    links = _LINK.findall(text)
    assert links, "the README links to the documentation"
    relative = [link for link in links if not link.startswith("https://")]
    assert relative == []
    pages = [link[len(docs) :].partition("#")[0] for link in links if link.startswith(docs)]
    assert len(pages) >= 5, pages
    for page in pages:
        source = ROOT / "docs" / (page.rstrip("/") + ".md" if page else "index.md")
        assert page == "" or page.endswith("/"), page
        assert source.is_file(), f"README links to {page!r}, but there is no {source}"


def test_readme_keeps_make_and_docs_paths_to_the_clone_section() -> None:
    """``make`` targets and ``docs/`` paths appear only in the section for a clone."""
    sections = _readme_sections()
    clone = [heading for heading in sections if "clone" in heading.lower()]
    assert len(clone) == 1, list(sections)
    assert "make test" in sections[clone[0]]
    for heading, body in sections.items():
        if heading in clone:
            continue
        assert not re.search(r"\bmake [a-z]", body), heading
        assert not re.search(r"(?<![\w/.])docs/", body), heading


def test_changelog_has_unreleased_then_the_current_version() -> None:
    """Keep a Changelog form: [Unreleased] on top, then this version, with link references."""
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    releases = _RELEASE.findall(text)
    assert releases[0] == ("Unreleased", "")
    names = [name for name, _date in releases]
    assert backendkit.__version__ in names
    assert names[1] == backendkit.__version__
    for _name, date in releases[1:]:
        # A date once released; until then "unreleased" (set when the version is published).
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}|unreleased", date), date
    references = {label.lower(): url for label, url in _REFERENCE.findall(text)}
    repo = _repo_url()
    assert references["unreleased"] == f"{repo}/compare/v{names[1]}...HEAD"
    for name in names[1:]:
        assert references[name].startswith(f"{repo}/"), name
    # The references come last, after every section.
    assert text.rstrip().splitlines()[-1].startswith("[")
