"""Template filters for an action plan's narrative (Markdown, rendered sanitised)."""

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_TAGS = {
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "code",
    "pre",
    "blockquote",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
LINK_SCHEMES = ("http://", "https://", "mailto:")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Links only to the web or to mail; relative and every other scheme are dropped.
    if tag == "a" and attribute == "href" and not value.strip().lower().startswith(LINK_SCHEMES):
        return None
    return value


def render_markdown(text: str) -> str:
    """Markdown to HTML, then through nh3's allowlist: no raw HTML survives."""
    if not text:
        return ""
    html = markdown_lib.markdown(text, extensions=["tables", "sane_lists"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
    )


@register.filter(is_safe=True)
def markdown(text):
    """Render narrative Markdown as sanitised HTML."""
    # The one mark_safe in the project: on nh3's output only, never on raw user data.
    return mark_safe(render_markdown(str(text or "")))  # noqa: S308
