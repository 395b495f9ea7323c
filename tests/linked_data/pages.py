"""A small reader of the site's HTML pages for assertions: sections, definition lists, links, ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Entry:
    """A ``<dt>`` and its ``<dd>`` values: their text and the links in them."""

    term: str
    term_href: str | None
    values: list[str] = field(default_factory=list)
    hrefs: list[str | None] = field(default_factory=list)


@dataclass
class Page:
    """What a page holds, as text."""

    title: str = ""
    h1: str = ""
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    sections: dict[str, list[Entry]] = field(default_factory=dict)
    section_text: dict[str, str] = field(default_factory=dict)
    alternates: list[tuple[str, str]] = field(default_factory=list)  # (type, href) of <link rel=alternate>
    stylesheets: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[str] = []
        self.section: str | None = None
        self.capture: str | None = None  # "dt", "dd", "title", "h1", "a"
        self.text = ""
        self.href: str | None = None
        self.link_text = ""
        self.link_href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.page.ids.add(a["id"] or "")
        if tag == "section":
            self.section = a.get("aria-labelledby") or a.get("id") or ""
            self.page.sections.setdefault(self.section, [])
            self.page.section_text.setdefault(self.section, "")
        elif tag in ("dt", "dd", "title", "h1"):
            self.capture, self.text, self.href = tag, "", None
        elif tag == "a":
            self.link_href, self.link_text = a.get("href"), ""
            if self.capture in ("dt", "dd") and self.href is None:
                self.href = a.get("href")
        elif tag == "link":
            if a.get("rel") == "alternate":
                self.page.alternates.append((a.get("type") or "", a.get("href") or ""))
            if a.get("rel") == "stylesheet":
                self.page.stylesheets.append(a.get("href") or "")
        elif tag == "script" and a.get("src"):
            self.page.scripts.append(a.get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link_href is not None:
            self.page.links.append((self.link_href, self.link_text.strip()))
            self.link_href = None
        if tag == "section":
            self.section = None
        if tag == self.capture:
            text = " ".join(self.text.split())
            if tag == "title":
                self.page.title = text
            elif tag == "h1" and not self.page.h1:
                self.page.h1 = text
            elif tag == "dt" and self.section is not None:
                self.page.sections[self.section].append(Entry(text, self.href))
            elif tag == "dd" and self.section is not None and self.page.sections[self.section]:
                entry = self.page.sections[self.section][-1]
                entry.values.append(text)
                entry.hrefs.append(self.href)
            self.capture = None

    def handle_data(self, data: str) -> None:
        if self.capture:
            self.text += data
        if self.link_href is not None:
            self.link_text += data
        if self.section is not None:
            self.page.section_text[self.section] += data


def read_page(html: str) -> Page:
    """Parse a page."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page


def entry(page: Page, section: str, term: str) -> Entry:
    """The ``<dt>`` called ``term`` in ``section`` (AssertionError listing the others if absent)."""
    entries = page.sections.get(section, [])
    for item in entries:
        if item.term == term:
            return item
    raise AssertionError(f"no {term!r} in section {section!r}: {[e.term for e in entries]}")
