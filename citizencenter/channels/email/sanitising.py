"""Making citizens' HTML mail safe to show guides, and readable as plain text."""

import re
from html.parser import HTMLParser

import nh3

# Removed together with their content: active or invisible parts of a page.
_DROPPED_WITH_CONTENT = {"script", "style", "iframe", "frame", "frameset", "object", "embed",
                         "applet", "noscript", "template", "title", "svg", "math"}
# cid: lets inline images in the mail itself still be referenced.
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre",
               "h1", "h2", "h3", "h4", "h5", "h6", "hr", "dl", "dt", "dd", "article",
               "section", "header", "footer", "figure", "figcaption", "caption", "details",
               "summary", "center", "aside", "nav"}


def sanitise_html(markup: str) -> str:
    """Strip scripts, styles, frames, event handlers and unsafe URLs from mail HTML."""
    return nh3.clean(markup.replace("\x00", ""), clean_content_tags=_DROPPED_WITH_CONTENT,
                     url_schemes=_URL_SCHEMES, strip_comments=True)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.chunks.append("\n")
        if tag == "li":
            self.chunks.append("- ")
        elif tag == "td" or tag == "th":
            self.chunks.append(" ")
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.chunks.append("\n")
        elif tag == "a" and self._href:
            # Keep a link's target when its text does not already show it.
            if self._href.startswith(("http:", "https:")) and \
                    self._href not in "".join(self._link_text):
                self.chunks.append(f" <{self._href}>")
            self._href = None

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        if self._href:
            self._link_text.append(data)


def html_to_text(markup: str) -> str:
    """Render (already sanitised) HTML as readable text: blocks on lines, spaces collapsed."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = "".join(extractor.chunks).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
