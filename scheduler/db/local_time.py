"""SQL expressions for local months and weekdays and for durations, on SQLite and PostgreSQL alike.

Each is one SQLAlchemy construct compiled per database: the report's statement stays one
statement, and only these few functions differ between the two.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class LocalMonth(FunctionElement[str]):
    """``YYYY-MM`` of a UTC instant shifted by a number of minutes (its zone's offset then)."""

    type = String()
    name = "local_month"
    inherit_cache = True


class LocalWeekday(FunctionElement[int]):
    """ISO weekday (Monday 1 to Sunday 7) of a UTC instant shifted by a number of minutes."""

    type = Integer()
    name = "local_weekday"
    inherit_cache = True


class SecondsBetween(FunctionElement[float]):
    """``later - earlier`` in seconds, for two UTC instants."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


def _arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(argument, **kw) for argument in element.clauses]


@compiles(LocalMonth, "sqlite")
def _month_sqlite(element: LocalMonth, compiler: SQLCompiler, **kw: Any) -> str:
    instant, minutes = _arguments(element, compiler, **kw)
    return f"strftime('%Y-%m', {instant}, ({minutes}) || ' minutes')"


@compiles(LocalWeekday, "sqlite")
def _weekday_sqlite(element: LocalWeekday, compiler: SQLCompiler, **kw: Any) -> str:
    instant, minutes = _arguments(element, compiler, **kw)
    # %w counts from Sunday (0): shifted so that Monday is 1 and Sunday 7.
    return f"((CAST(strftime('%w', {instant}, ({minutes}) || ' minutes') AS INTEGER) + 6) % 7 + 1)"


@compiles(SecondsBetween, "sqlite")
def _seconds_sqlite(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _arguments(element, compiler, **kw)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(LocalMonth, "postgresql")
def _month_postgresql(element: LocalMonth, compiler: SQLCompiler, **kw: Any) -> str:
    instant, minutes = _arguments(element, compiler, **kw)
    return f"to_char(timezone('UTC', {instant}) + make_interval(mins => {minutes}), 'YYYY-MM')"


@compiles(LocalWeekday, "postgresql")
def _weekday_postgresql(element: LocalWeekday, compiler: SQLCompiler, **kw: Any) -> str:
    instant, minutes = _arguments(element, compiler, **kw)
    local = f"timezone('UTC', {instant}) + make_interval(mins => {minutes})"
    return f"CAST(extract(isodow FROM {local}) AS INTEGER)"


@compiles(SecondsBetween, "postgresql")
def _seconds_postgresql(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _arguments(element, compiler, **kw)
    return f"extract(epoch FROM ({later} - {earlier}))"
