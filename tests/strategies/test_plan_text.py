"""The ``markdown`` filter: narrative Markdown rendered, then sanitised by an allowlist."""

import pytest
from django.template import engines
from django.utils.safestring import SafeString

from strategies.templatetags.plan_text import markdown
from tests.html_dom import parse


def render(text):
    return str(markdown(text))


def test_it_renders_lists_emphasis_and_paragraphs():
    html = render("Intro with **bold** and *em*.\n\n- one\n- two")
    page = parse(html)
    assert page.find("strong").text == "bold"
    assert page.find("em").text == "em"
    assert [li.text for li in page.find("ul").find_all("li")] == ["one", "two"]


def test_it_removes_scripts_with_their_content():
    html = render("Before <script>alert(1)</script> after")
    assert "<script" not in html
    assert "alert(1)" not in html
    assert "Before" in html and "after" in html


@pytest.mark.parametrize(
    "raw",
    [
        "<img src=x onerror=alert(1)>",
        '<p onclick="alert(1)">hi</p>',
        "<a href=\"#\" onmouseover='alert(1)'>x</a>",
        '<iframe src="https://evil.example"></iframe>',
        "<svg onload=alert(1)></svg>",
        "<style>body{display:none}</style>",
    ],
)
def test_raw_html_attributes_and_tags_never_survive(raw):
    html = render(raw)
    nodes = list(parse(html).iter())
    assert not [n for n in nodes if any(name.startswith("on") for name in n.attrs)]
    assert not [n for n in nodes if n.tag in ("img", "iframe", "svg", "style", "script")]


@pytest.mark.parametrize(
    "link",
    ["[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](data:text/html,hi)", "[x](/x)"],
)
def test_links_other_than_web_and_mail_lose_their_target(link):
    anchor = parse(render(link)).find("a")
    assert "href" not in anchor.attrs


@pytest.mark.parametrize("href", ["https://treasury.gov", "http://x.gov", "mailto:a@x.gov"])
def test_web_and_mail_links_are_kept_and_open_safely(href):
    anchor = parse(render(f"[x]({href})")).find("a")
    assert anchor.attrs == {"href": href, "rel": "noopener noreferrer"}


def test_top_level_headings_become_text_but_h3_to_h6_stay():
    page = parse(render("# Big\n\n## Bigger\n\n### Section\n\n###### Small"))
    assert [n.tag for n in page.iter()] == ["h3", "h6"]
    assert "Big" in page.text and "Bigger" in page.text


def test_tables_render():
    page = parse(render("| a | b |\n|---|---|\n| 1 | 2 |"))
    assert [td.text for td in page.find("tbody").find_all("td")] == ["1", "2"]


def test_empty_text_renders_nothing():
    assert render("") == ""
    assert render(None) == ""


def test_the_output_is_marked_safe_and_not_escaped_again_in_a_template():
    assert isinstance(markdown("*x*"), SafeString)
    template = engines["django"].from_string("{% load plan_text %}{{ text|markdown }}")
    assert template.render({"text": "*x* & <b>y</b>"}).strip() == "<p><em>x</em> &amp; y</p>"
