"""What the report page shows, in French, computed from the figures: the template only lays it out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

from scheduler.report_page.charts import Series, horizontal_bars, stacked_bars
from scheduler.services.reports import ReportFigures

LOCALE = "fr_FR"
FRENCH = Locale.parse(LOCALE)
# The chart's layers, bottom first, with colours that keep 3:1 against white and between neighbours.
OUTCOMES = (("attended", "Venus", "#17702e"), ("no_show", "Absents", "#c2410c"),
            ("cancelled", "Annulés", "#6b6b6b"), ("open", "Sans suite notée", "#0b5394"))
TOTALS = (
    ("booked", "Rendez-vous pris"), ("attended", "Venus"), ("no_show", "Absents sans prévenir"),
    ("cancelled", "Annulés"), ("cancelled_late", "dont annulés moins de 24 h avant"),
    ("families", "Familles"),
    ("first_appointments", "Premiers rendez-vous"), ("with_interpreter", "Avec interprète"),
    ("home_visits", "Visites à domicile"), ("sms_sent", "SMS envoyés"), ("sms_segments", "Segments SMS"),
    ("waitlist_refills", "Créneaux libérés repris sur liste d'attente"),
)


@dataclass(frozen=True, slots=True)
class Line:
    """A row of a table: its name and its figures, the no-show rate written in French."""

    name: str
    figures: dict[str, int]
    no_show_rate: str
    share: float


def report_view(report: ReportFigures) -> dict[str, Any]:
    """The template's context."""
    months = _months(report)
    sites = [_line(report.site_names.get(row["site_id"], row["site_id"]), row)
             for row in report.sections["sites"]]
    services = [_line(report.service_names.get(row["service_id"], row["service_id"]), row)
                for row in report.sections["services"]]
    return {
        "period": f"du {_day(report.first)} au {_day(report.last)}",
        "scope": "tous les sites" if report.site_ids is None else f"{len(report.site_ids)} site(s)",
        "totals": [(label, _number(report.totals[key])) for key, label in TOTALS],
        "no_show_rate": _rate(report.totals),
        "month_chart": Markup(_month_chart(months)),
        "months": months,
        "outcomes": [(label, color) for _, label, color in OUTCOMES],
        "sites": sites,
        "site_chart": Markup(_rate_chart("sites", "Taux d'absence par site", sites)),
        "services": services,
        "service_chart": Markup(_rate_chart("services", "Taux d'absence par prestation", services)),
        "languages": [_language(row) for row in report.sections["languages"]],
        "sms": {"sent": _number(report.totals["sms_sent"]),
                "segments": _number(report.totals["sms_segments"]), "per_sms": _per_sms(report.totals)},
    }


def _months(report: ReportFigures) -> list[dict[str, Any]]:
    """Every month of the period, with its outcome counts (zero for a month without appointments)."""
    found = {row["month"]: row for row in report.sections["months"]}
    months: list[dict[str, Any]] = []
    cursor = report.first.replace(day=1)
    while cursor <= report.last:
        row = found.get(cursor.strftime("%Y-%m"), {})
        counts = {key: int(row.get(key) or 0) for key in ("booked", "attended", "no_show", "cancelled")}
        counts["open"] = counts["booked"] - counts["attended"] - counts["no_show"] - counts["cancelled"]
        months.append({"label": format_date(cursor, "MMM y", locale=LOCALE),
                       "short": _short_month(cursor, first=not months), "counts": counts})
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    return months


def _month_chart(months: list[dict[str, Any]]) -> str:
    series = [Series(label, color, [month["counts"][key] for month in months])
              for key, label, color in OUTCOMES]
    description = "; ".join(f"{m['label']} : " + ", ".join(f"{label} {m['counts'][key]}"
                                                              for key, label, _ in OUTCOMES) for m in months)
    return stacked_bars("months", "Rendez-vous par mois, selon ce qu'il en est advenu", description,
                        [month["short"] for month in months], series)


def _rate_chart(ident: str, title: str, lines: list[Line]) -> str:
    description = "; ".join(f"{line.name} : {line.no_show_rate}" for line in lines)
    return horizontal_bars(ident, title, description, [line.name for line in lines],
                           [line.share for line in lines], [line.no_show_rate for line in lines], "#c2410c")


def _line(name: str, row: dict[str, Any]) -> Line:
    seen = int(row["attended"]) + int(row["no_show"])
    share = int(row["no_show"]) / seen if seen else 0.0
    return Line(name, {key: int(row[key]) for key, _ in TOTALS}, _rate(row), share)


def _language(row: dict[str, Any]) -> dict[str, Any]:
    code = row["language"] or ""
    name = FRENCH.languages.get(code, code)
    return {"name": name[:1].upper() + name[1:], "booked": _number(int(row["booked"])),
            "families": _number(int(row["families"])),
            "with_interpreter": _number(int(row["with_interpreter"]))}


def _rate(row: dict[str, Any]) -> str:
    """No-shows among the appointments whose outcome is known (came or not), or a dash."""
    seen = int(row["attended"]) + int(row["no_show"])
    return format_percent(int(row["no_show"]) / seen, "#,##0.0\u00a0%", locale=LOCALE) if seen else "–"


def _per_sms(totals: dict[str, int]) -> str:
    if not totals["sms_sent"]:
        return "–"
    return format_decimal(totals["sms_segments"] / totals["sms_sent"], "#,##0.0", locale=LOCALE)


def _number(value: int) -> str:
    return format_decimal(value, locale=LOCALE)


def _short_month(month: date, *, first: bool) -> str:
    """``févr.`` under the chart; the year too on the first bar and on each January (``janv. 26``)."""
    return format_date(month, "MMM yy" if first or month.month == 1 else "MMM", locale=LOCALE)


def _day(day: date) -> str:
    return format_date(day, "d MMMM y", locale=LOCALE)
