"""Small SVG charts drawn here, embedded in the report page: no script, no library, no font to load.

A chart library would bring a dependency (and pygal a script to switch off) for two kinds of bars;
these few functions write the SVG elements themselves. Colours are presentation attributes, not
``style`` attributes, so the page's Content-Security-Policy (styles by hash only) leaves them alone.
Every chart has a title and a description for screen readers, and the page gives its numbers in a
table as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 40
TEXT = "#1b1b1b"
GRID = "#c8c8c8"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
MAX_LABELS = 12


@dataclass(frozen=True, slots=True)
class Series:
    """One layer of a stacked bar: its name, colour and value per category."""

    label: str
    color: str
    values: Sequence[int]


def stacked_bars(ident: str, title: str, description: str, categories: Sequence[str],
                 series: Sequence[Series]) -> str:
    """Vertical bars, one per category, each stacked from its series (bottom first)."""
    totals = [sum(layer.values[index] for layer in series) for index in range(len(categories))]
    top = _nice_ceiling(max(totals, default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(categories), 1)
    # At most a dozen labels under the axis, so that they never run into each other.
    label_every = -(-len(categories) // MAX_LABELS)
    parts = [_open(ident, title, description), *_y_axis(top, plot_height)]
    for index, category in enumerate(categories):
        x, base = LEFT + index * step + step * 0.15, float(TOP + plot_height)
        for layer in series:
            value = layer.values[index]
            height = plot_height * value / top
            if value:
                parts.append(f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{step * 0.7:.1f}" '
                             f'height="{height:.1f}" fill="{layer.color}"><title>{escape(category)} : '
                             f'{escape(layer.label)} {value}</title></rect>')
            base -= height
        if index % label_every == 0:
            parts.append(f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                         f'{FONT} fill="{TEXT}">{escape(category)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(ident: str, title: str, description: str, labels: Sequence[str], shares: Sequence[float],
                    shown: Sequence[str], color: str) -> str:
    """One bar per label, its length a share between 0 and 1, its value written after it."""
    row, label_width = 28, 200
    height = TOP + row * max(len(labels), 1) + 8
    bar_room = WIDTH - label_width - 70
    parts = [_open(ident, title, description, height)]
    for index, (label, share, text) in enumerate(zip(labels, shares, shown, strict=True)):
        y = TOP + index * row
        parts.append(f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" {FONT} fill="{TEXT}">'
                     f'{escape(_short(label))}</text>')
        length = bar_room * min(max(share, 0.0), 1.0)
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 10}" '
                     f'fill="{color}"/>')
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{y + 17}" {FONT} fill="{TEXT}">'
                     f'{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _open(ident: str, title: str, description: str, height: int = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-labelledby="{ident}-title {ident}-desc" class="chart">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(description)}</desc>')


def _y_axis(top: int, plot_height: int) -> list[str]:
    parts = []
    for tick in range(5):
        value = top * tick // 4
        y = TOP + plot_height - plot_height * tick / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} fill="{TEXT}">'
                     f'{value}</text>')
    return parts


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above ``value`` (4, 8, 20, 40, 80, 200...): its quarters are whole."""
    top = 4
    while top < value:
        top = top * 5 // 2 if str(top).startswith("8") else top * 2
    return top


def _short(label: str, length: int = 28) -> str:
    return label if len(label) <= length else label[: length - 1] + "…"
