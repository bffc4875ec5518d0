"""An article's Markdown as safe HTML: rendered, then sanitised with the mail's rules."""

from markdown_it import MarkdownIt

from citizencenter.channels.email.sanitising import html_to_text, sanitise_html

# Raw HTML in the Markdown is left to the sanitiser, which keeps the harmless part of it.
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


def render(body: str) -> str:
    """The article body as HTML safe to show a guide or the website."""
    return sanitise_html(_markdown.render(body))


def plain_text(body_html: str) -> str:
    """The rendered body as text, for the search index and snippets."""
    return html_to_text(body_html)
