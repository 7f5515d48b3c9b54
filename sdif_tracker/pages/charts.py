"""Key indicator charts: target against actual over the reporting periods, as SVG built
server-side with ``xml.etree`` (which escapes every text node and attribute), so a chart
works without JavaScript, prints, and carries a <title> and <desc> for screen readers.
The page shows the same numbers in a table beside it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - builds XML, never parses untrusted input
from decimal import Decimal

from django.utils.translation import gettext as _

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 40, 16, 56
TARGET_COLOUR = "#495057"  # dark grey, dashed, square markers
ACTUAL_COLOUR = "#0a58ca"  # blue, solid, round markers


def number(value: Decimal | None) -> str:
    """ "12.5", "10", "—" for no value."""
    if value is None:
        return "—"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def describe(indicator, values) -> str:
    """The chart in words: every period's target and actual."""
    if not values:
        return _("No values have been entered yet.")
    parts = [
        _("%(period)s: target %(target)s, actual %(actual)s")
        % {"period": v.period, "target": number(v.target), "actual": number(v.actual)}
        for v in values
    ]
    direction = indicator.get_direction_display()
    return f"{direction}. " + "; ".join(parts) + "."


def _el(parent, tag, text=None, **attrs):
    element = ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()}
    )
    if text is not None:
        element.text = text
    return element


def indicator_svg(indicator, values, *, element_id: str) -> str:
    """``indicator``'s values (oldest period first) as an SVG document string."""
    unit = f" ({indicator.unit})" if indicator.unit else ""
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "width": str(WIDTH),
            "height": str(HEIGHT),
            "role": "img",
            "aria-labelledby": f"{title_id} {desc_id}",
            "id": element_id,
            "class": "indicator-chart",
        },
    )
    _el(
        root,
        "title",
        _("%(name)s%(unit)s: target and actual by period")
        % {"name": indicator.name, "unit": unit},
        id=title_id,
    )
    _el(root, "desc", describe(indicator, values), id=desc_id)

    numbers = [v for value in values for v in (value.target, value.actual) if v is not None]
    low = min([Decimal(0), *numbers])
    high = max([Decimal(1), *numbers])
    if high == low:
        high = low + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: Decimal) -> float:
        return round(TOP + plot_h - float((value - low) / (high - low)) * plot_h, 1)

    def x(index: int) -> float:
        if len(values) <= 1:
            return LEFT + plot_w / 2
        return round(LEFT + index * plot_w / (len(values) - 1), 1)

    axes = _el(root, "g", class_="axes", stroke="#212529", fill="none")
    _el(axes, "line", x1=LEFT, y1=TOP, x2=LEFT, y2=TOP + plot_h)
    _el(axes, "line", x1=LEFT, y1=TOP + plot_h, x2=LEFT + plot_w, y2=TOP + plot_h)
    labels = _el(root, "g", class_="labels", fill="#212529", font_size="12")
    for tick in (low, (low + high) / 2, high):
        _el(labels, "text", number(tick), x=LEFT - 6, y=y(tick) + 4, text_anchor="end")
    for index, value in enumerate(values):
        _el(
            labels,
            "text",
            str(value.period),
            x=x(index),
            y=TOP + plot_h + 18,
            text_anchor="middle",
        )

    for key, colour, dash, marker in (
        ("target", TARGET_COLOUR, "6 4", "square"),
        ("actual", ACTUAL_COLOUR, "", "circle"),
    ):
        points = [
            (x(i), y(getattr(v, key))) for i, v in enumerate(values) if getattr(v, key) is not None
        ]
        series = _el(root, "g", class_=f"series-{key}", stroke=colour, fill=colour)
        if len(points) > 1:
            attrs = {"points": " ".join(f"{px},{py}" for px, py in points), "fill": "none"}
            if dash:
                attrs["stroke-dasharray"] = dash
            _el(
                series,
                "polyline",
                stroke_width="2",
                **{k.replace("-", "_"): v for k, v in attrs.items()},
            )
        for px, py in points:
            if marker == "circle":
                _el(series, "circle", cx=px, cy=py, r=4)
            else:
                _el(series, "rect", x=px - 4, y=py - 4, width=8, height=8)

    legend = _el(root, "g", class_="legend", font_size="12", fill="#212529")
    _el(
        legend,
        "line",
        x1=LEFT,
        y1=HEIGHT - 12,
        x2=LEFT + 24,
        y2=HEIGHT - 12,
        stroke=TARGET_COLOUR,
        stroke_width="2",
        stroke_dasharray="6 4",
    )
    _el(legend, "text", _("Target (dashed, squares)"), x=LEFT + 30, y=HEIGHT - 8)
    _el(
        legend,
        "line",
        x1=LEFT + 220,
        y1=HEIGHT - 12,
        x2=LEFT + 244,
        y2=HEIGHT - 12,
        stroke=ACTUAL_COLOUR,
        stroke_width="2",
    )
    _el(legend, "text", _("Actual (solid, circles)"), x=LEFT + 250, y=HEIGHT - 8)
    return ET.tostring(root, encoding="unicode")
