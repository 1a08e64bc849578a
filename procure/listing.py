"""Lists people can work with, in one place: a :class:`ListSpec` says a list's columns
(label, value, SQL expression to sort and sum by, money or not, link), its filters, its
search and its default order; :func:`run` reads the query string into a page of rows,
and :func:`respond` renders the page or, for ``?export=xlsx``, the spreadsheet of the
WHOLE filtered set in the same order.

What a list costs does not grow with the data: the page's rows (one select, plus the
spec's eager loads), and ONE aggregate select for the number of matches and the totals
of the money columns over the whole filtered set (not the page). The export reads the
same select in batches into a write-only workbook.

The base select of every list comes from its module, already narrowed by the permission
rule's filter (``visible(...)``); the filters, search and sort only narrow or order it
further, so the export never shows more than the page.

An export of more rows than ``EXPORT_INLINE_MAX_ROWS`` (config) is not written in the
request: the answer registered with :func:`on_large_export` (procure.jobs.exports: a
background job) takes it. The job names the list (every ListSpec is registered by its
name) and its arguments as read here (:class:`Export`), so the worker rebuilds the same
filtered, sorted select for the same user, after checking the list's permission again.

Query-string junk (an unknown sort key, a filter value that is no choice, a page number
that is not a number) is ignored with a message on the page, never a 500. Control
characters never reach here (:func:`procure.parsing.check_request_text` refuses them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from tempfile import SpooledTemporaryFile
from typing import Any

from flask import abort, current_app, render_template, request, send_file, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.orm.attributes import InstrumentedAttribute

from .extensions import db
from .parsing import parse_date, parse_id, parse_year, per_page_arg
from .permissions import can
from .timeutil import to_local, utcnow

#: The unit line of every table and spreadsheet of amounts.
UNIT_LINE = "单位：元"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: Rows read per round trip while writing a spreadsheet.
EXPORT_BATCH = 500
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The longest search text kept.
MAX_SEARCH = 100
#: The longest filter value read (a choice is at most a registration authority's name).
MAX_FILTER = 200
_SORT_KEY = re.compile(r"-?[a-z_]{1,40}")

TEXT, MONEY, DATE, DATETIME, STATE, NUMBER = "text", "money", "date", "datetime", "state", "number"


@dataclass(frozen=True)
class Column:
    """One column: ``value(obj, extra)`` what the page and the spreadsheet show (``extra``
    is the spec's per-row dict, {} without one); ``expr`` the SQL expression the list
    sorts by and, for money, sums; ``link`` (endpoint, argument, obj -> id or None)."""

    key: str
    label: Any
    value: Callable[[Any, dict], Any]
    expr: Any = None
    kind: str = TEXT
    link: tuple[str, str, Callable[[Any], Any]] | None = None
    sortable: bool = True

    @property
    def is_money(self) -> bool:
        return self.kind == MONEY

    @property
    def can_sort(self) -> bool:
        return self.sortable and self.expr is not None

    @property
    def numeric(self) -> bool:
        return self.kind in (MONEY, NUMBER)


def attr(name: str) -> Callable[[Any, dict], Any]:
    """``value`` reading a dotted attribute path of the row (None along the way stays None)."""
    parts = name.split(".")

    def read(obj, _extra):
        for p in parts:
            obj = getattr(obj, p, None) if obj is not None else None
        return obj
    return read


def col(key: str, label, column: InstrumentedAttribute | None = None, *, path: str | None = None,
        **kw) -> Column:
    """A column showing the attribute ``path`` (default: ``key``), sorted by ``column``."""
    return Column(key, label, attr(path or key), column, **kw)


@dataclass(frozen=True)
class Filter:
    """A filter: ``kind`` choice (``choices() -> [(value, label)]``), year, id (a choice
    of ids), date_from or date_to; ``apply(stmt, value) -> stmt`` with the parsed value."""

    key: str
    label: Any
    apply: Callable[[Select, Any], Select]
    kind: str = "choice"
    choices: Callable[[], list[tuple[Any, Any]]] | None = None

    def parse(self, raw: str, choices: list | None) -> Any:
        """The value of ``raw`` or None when it is not one this filter takes."""
        if self.kind == "year":
            return parse_year(raw, first=1900, last=2100)
        if self.kind in ("date_from", "date_to"):
            return parse_date(raw)
        if self.kind == "id":
            value = parse_id(raw)
            return value if value is not None and (choices is None or value in {c[0] for c in choices}) else None
        return raw if choices is not None and raw in {str(c[0]) for c in choices} else None


def state_filter(column, states: type, key: str = "state", label=_l("State")) -> Filter:
    """A choice among the values of the enum ``states`` (a state, a method) on ``column``."""
    return Filter(key, label, lambda stmt, v: stmt.where(column == states(v)),
                  choices=lambda: [(s.value, s.label) for s in states])


def id_filter(key: str, label, column, choices: Callable[[], list]) -> Filter:
    """A choice among the ids ``choices()`` gives ((id, name) pairs) on ``column``."""
    return Filter(key, label, lambda stmt, v: stmt.where(column == v), kind="id", choices=choices)


#: Every list by its name (a ListSpec registers itself): the export job finds its list here.
SPECS: dict[str, ListSpec] = {}


@dataclass
class ListSpec:
    """A list: ``permission`` the action a user needs to see it at all (checked by
    :func:`respond` and again by the export job); ``base(user)`` the permission-filtered
    select of ``model``; columns, filters, ``search(text) -> condition``; ``default_sort``
    a column key, "-" first for descending; ``options()`` eager loads for the rows;
    ``extras(objs) -> {id: dict}`` per-row values read in one query per page (or per
    export batch); ``fixed(keep) -> [condition]`` the conditions of the view's kept
    arguments (a tab, a year), so that the page and the export job narrow alike."""

    name: str
    title: Any
    model: type
    permission: str
    base: Callable[[Any], Select]
    columns: list[Column]
    filters: list[Filter] = field(default_factory=list)
    search: Callable[[str], Any] | None = None
    search_label: Any = None
    default_sort: str = "-id"
    options: Callable[[], list] | None = None
    extras: Callable[[list], dict] | None = None
    per_page: int = 50
    #: The rows' ``data-…`` attribute (tests and scripts find a row by it).
    row_attr: str = "id"
    empty: Any = None
    #: Count the matches no further than this (a list of no amounts over a large table,
    #: e.g. the registry): the page shows "10,000+" beyond it. None: an exact count.
    count_cap: int | None = None
    fixed: Callable[[dict], list] | None = None

    def __post_init__(self) -> None:
        # One list per name: the export job rebuilds a list from its name, so two lists
        # sharing one could export the wrong rows under the wrong permission.
        if self.name in SPECS:
            raise ValueError(f"list {self.name!r} defined twice")
        SPECS[self.name] = self

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def conditions(self, keep: dict) -> list:
        """The view's fixed conditions for its kept arguments ([] without ``fixed``)."""
        return list(self.fixed(keep)) if self.fixed is not None else []


@dataclass
class Listing:
    """A list as the page shows it: the page of rows, the filters as read, the sort, the
    count and totals over the whole filtered set, and messages about ignored arguments."""

    spec: ListSpec
    page: Any
    extra: dict
    values: dict  # filter key -> raw value kept ('' when none or ignored)
    choices: dict  # filter key -> [(value, label)]
    q: str
    sort: str
    desc: bool
    count: int
    totals: dict  # money column key -> Decimal
    messages: list
    keep: dict  # fixed arguments of the view (a tab) that every link carries

    @property
    def items(self) -> list:
        return self.page.items

    def rows(self) -> Iterator[tuple[Any, dict]]:
        for obj in self.page.items:
            yield obj, self.extra.get(obj.id, {})

    @property
    def has_totals(self) -> bool:
        return any(c.is_money for c in self.spec.columns)

    @property
    def count_label(self) -> str:
        """The number of matches as the page says it: "10,000+" past the spec's cap."""
        cap = self.spec.count_cap
        if cap is not None and self.count > cap:
            return f"{format_number(cap)}+"
        return str(self.count)

    def args(self, **changes) -> dict:
        """The query arguments of this list (filters, search, sort, kept ones), changed."""
        out = dict(self.keep)
        out.update({k: v for k, v in self.values.items() if v})
        if self.q:
            out["q"] = self.q
        if self.sort != self.spec.default_sort.lstrip("-") or self.desc != self.spec.default_sort.startswith("-"):
            out["sort"] = self.sort
            out["dir"] = "desc" if self.desc else "asc"
        for k, v in changes.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    def url(self, **changes) -> str:
        return url_for(request.endpoint, **(request.view_args or {}), **self.args(**changes))

    def sort_url(self, key: str) -> str:
        """The header's link: sort by ``key``, ascending first, the other way when already so."""
        desc = not self.desc if key == self.sort else False
        return self.url(sort=key, dir="desc" if desc else "asc", page=None)

    def page_url(self, number: int) -> str:
        return self.url(page=number)

    def clear_url(self) -> str:
        """The list without filters, search or sort (the view's kept arguments stay)."""
        return url_for(request.endpoint, **(request.view_args or {}), **self.keep)

    def export_url(self) -> str:
        return self.url(export="xlsx", page=None)

    def links(self) -> dict:
        """Per linked column, ``id -> url`` built once per list (procure.web.id_url)."""
        from .web import id_url

        return {c.key: id_url(c.link[0], c.link[1]) for c in self.spec.columns if c.link}

    @property
    def filtered(self) -> bool:
        return bool(self.q or any(self.values.values()))


# --- reading the query string --------------------------------------------------------


def _read(spec: ListSpec, args) -> tuple[dict, dict, dict, str, str, bool, list]:
    messages = []
    values, parsed, choices = {}, {}, {}
    for f in spec.filters:
        opts = [(str(v), lbl) for v, lbl in f.choices()] if f.choices else None
        if f.kind == "id" and opts is not None:
            opts = [(int(v), lbl) for v, lbl in opts]
        choices[f.key] = opts or []
        raw = (args.get(f.key) or "").strip()
        values[f.key] = ""
        if not raw:
            continue
        value = f.parse(raw[:MAX_FILTER], opts)
        if value is None:
            messages.append(_("The filter “%(label)s” does not take the value given; it is ignored.",
                              label=f.label))
            continue
        values[f.key] = raw
        parsed[f.key] = value
    q = " ".join((args.get("q") or "").split())[:MAX_SEARCH] if spec.search is not None else ""
    default_desc = spec.default_sort.startswith("-")
    default_key = spec.default_sort.lstrip("-")
    sort, desc = default_key, default_desc
    raw_sort = (args.get("sort") or "").strip()
    if raw_sort:
        column = spec.column(raw_sort) if _SORT_KEY.fullmatch(raw_sort) else None
        if column is None or not column.can_sort:
            messages.append(_("The list cannot be sorted that way; it is shown in its usual order."))
        else:
            sort = raw_sort
            desc = False
    raw_dir = (args.get("dir") or "").strip()
    if raw_dir in ("asc", "desc"):
        desc = raw_dir == "desc"
    elif raw_dir:
        messages.append(_("The sort direction is “asc” or “desc”; the usual direction is used."))
    return values, parsed, choices, q, sort, desc, messages


def _filtered(spec: ListSpec, user, parsed: dict, q: str, where: Iterable) -> Select:
    stmt = spec.base(user)
    for cond in where:
        stmt = stmt.where(cond)
    for f in spec.filters:
        if f.key in parsed:
            stmt = f.apply(stmt, parsed[f.key])
    if q and spec.search is not None:
        stmt = stmt.where(spec.search(q))
    return stmt


def _ordered(spec: ListSpec, stmt: Select, sort: str, desc: bool) -> Select:
    column = spec.column(sort)
    pk = spec.model.id
    if column is None or not column.can_sort:
        return stmt.order_by(pk.desc())
    expr = column.expr.desc() if desc else column.expr.asc()
    # NULLs last either way; the id breaks ties, so pages and the export agree on the order.
    return stmt.order_by(expr.nulls_last(), pk.desc() if desc else pk.asc())


def _aggregate(spec: ListSpec, stmt: Select) -> tuple[int, dict]:
    """The number of matches and the sums of the money columns over the whole filtered
    set, in one select; with the spec's ``count_cap`` (and no amounts) the count reads no
    further than the cap + 1 rows."""
    money = [c for c in spec.columns if c.is_money and c.expr is not None]
    if spec.count_cap is not None and not money:
        capped = stmt.order_by(None).limit(spec.count_cap + 1).subquery()
        return db.session.scalar(select(func.count()).select_from(capped)), {}
    agg = stmt.with_only_columns(func.count(literal(1)),
                                 *[func.coalesce(func.sum(c.expr), 0) for c in money],
                                 maintain_column_froms=True).order_by(None)
    row = db.session.execute(agg).one()
    return row[0], {c.key: Decimal(row[i + 1]) for i, c in enumerate(money)}


def day_start(day: date) -> datetime:
    """A Beijing day's midnight as the naive UTC time the ``*_at`` columns store."""
    from datetime import UTC, time

    from .timeutil import SHANGHAI

    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def between_days(column, kind: str, day: date):
    """``column`` (a stored UTC time) on or after the Beijing day (date_from), or before
    the end of it (date_to)."""
    from datetime import timedelta

    return column >= day_start(day) if kind == "date_from" else column < day_start(day + timedelta(days=1))


def related(column, target_pk, shown):
    """A correlated scalar subquery: the ``shown`` column of the row ``column`` points to
    (sort or search by a related row's name without joining it in)."""
    return select(shown).where(target_pk == column).correlate(column.class_).scalar_subquery()


def search_clause(q: str, *columns) -> Any:
    """Each word of ``q`` found (case-insensitively, as typed) in one of ``columns``."""
    words = q.split()[:5]
    escaped = [w.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") for w in words]
    return db.and_(*[or_(*[c.ilike(f"%{w}%", escape="\\") for c in columns]) for w in escaped])


def select_for(spec: ListSpec, user, args, keep: dict | None = None) -> Select:
    """The ordered select of the whole list that ``args`` asks for (filters, search,
    sort), as the page pages it and the export reads it: for query plans (tests, bench)."""
    _values, parsed, _choices, q, sort, desc, _messages = _read(spec, args)
    return _ordered(spec, _filtered(spec, user, parsed, q, spec.conditions(keep or {})), sort, desc)


def run(spec: ListSpec, user, *, args=None, keep: dict | None = None) -> Listing:
    """The list page for ``user``: filters, search and sort from ``args`` (the request's
    query string), ``keep`` the view's fixed arguments (a tab), narrowing the list by
    ``spec.fixed``."""
    args = request.args if args is None else args
    values, parsed, choices, q, sort, desc, messages = _read(spec, args)
    stmt = _filtered(spec, user, parsed, q, spec.conditions(keep or {}))
    count, totals = _aggregate(spec, stmt)
    rows = _ordered(spec, stmt, sort, desc)
    if spec.options is not None:
        rows = rows.options(*spec.options())
    per_page = per_page_arg(spec.per_page)
    keep = dict(keep or {})
    if request.args.get("per_page") and per_page != spec.per_page:
        keep["per_page"] = per_page
    page = db.paginate(rows, per_page=per_page, error_out=False, count=False)
    page.total = count
    extra = spec.extras(page.items) if spec.extras is not None and page.items else {}
    return Listing(spec, page, extra, values, choices, q, sort, desc, count, totals, messages,
                   {k: v for k, v in keep.items() if v})


def respond(spec: ListSpec, template: str, user, *, keep: dict | None = None, **context):
    """The list page, or its spreadsheet when the query string asks ``export=xlsx``
    (written here, or by a background job when it has more rows than
    ``EXPORT_INLINE_MAX_ROWS``). 403 without the list's permission."""
    if not can(user, spec.permission):
        abort(403)
    keep = {k: v for k, v in (keep or {}).items() if v}
    if request.args.get("export") == "xlsx":
        export = prepare_export(spec, user, request.args, keep)
        if _large_export is not None and export.count > current_app.config["EXPORT_INLINE_MAX_ROWS"]:
            return _large_export(export)
        return xlsx_response(export)
    listing = run(spec, user, keep=keep)
    return render_template(template, listing=listing, **context)


#: What answers an export too large to write in the request (see :func:`on_large_export`).
_large_export: Callable[[Export], Any] | None = None


def on_large_export(answer: Callable[[Export], Any]) -> None:
    """Let ``answer(export)`` (a view's response) take the exports of more rows than
    ``EXPORT_INLINE_MAX_ROWS``; without one every export is written in the request."""
    global _large_export
    _large_export = answer


@dataclass
class Export:
    """A list's whole filtered set as the spreadsheet writes it: ``stmt`` the ordered
    select with its eager loads, the count and totals, the filters in words, and the
    arguments that rebuild it (``args`` as read — ignored ones dropped — and ``keep``)."""

    spec: ListSpec
    stmt: Select
    count: int
    totals: dict
    filters_text: str
    args: dict
    keep: dict


def prepare_export(spec: ListSpec, user, args, keep: dict) -> Export:
    """The export of ``spec`` for ``user`` with the query arguments ``args`` (the
    request's, or a job's) and the view's kept arguments ``keep``: the same select as
    the page, over the whole filtered set."""
    values, parsed, choices, q, sort, desc, _messages = _read(spec, args)
    stmt = _filtered(spec, user, parsed, q, spec.conditions(keep))
    count, totals = _aggregate(spec, stmt)
    stmt = _ordered(spec, stmt, sort, desc)
    if spec.options is not None:
        stmt = stmt.options(*spec.options())
    read = {k: v for k, v in values.items() if v}
    read.update({"q": q, "sort": sort, "dir": "desc" if desc else "asc"})
    return Export(spec, stmt, count, totals, describe(spec, values, choices, q), read, dict(keep))


def describe(spec: ListSpec, values: dict, choices: dict, q: str) -> str:
    """The filters in words (the spreadsheet's heading)."""
    parts = []
    for f in spec.filters:
        raw = values.get(f.key)
        if not raw:
            continue
        label = next((str(lbl) for v, lbl in choices.get(f.key, []) if str(v) == raw), raw)
        parts.append(f"{f.label}: {label}")
    if q:
        parts.append(_("Search: %(text)s", text=q))
    return "; ".join(parts) if parts else _("No filter")


# --- the spreadsheet -----------------------------------------------------------------


def cell_value(column: Column, value) -> Any:
    """A value as the spreadsheet stores it: amounts as numbers, times in Beijing time,
    states by their label."""
    if value is None:
        return None
    if column.kind == MONEY:
        return Decimal(value)
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None)
    if isinstance(value, date | int | float | Decimal):
        return value
    label = getattr(value, "label", None)
    return str(label if label is not None else value)


def _batches(stmt: Select, spec: ListSpec) -> Iterator[list]:
    """The rows of ``stmt`` in the same order, EXPORT_BATCH at a time (keyset-free:
    OFFSET over a stable order, each batch with its eager loads)."""
    offset = 0
    while True:
        batch = db.session.scalars(stmt.limit(EXPORT_BATCH).offset(offset)).unique().all()
        if not batch:
            return
        yield batch
        if len(batch) < EXPORT_BATCH:
            return
        offset += EXPORT_BATCH


def write_xlsx(export: Export, out, progress: Callable[[int], None] | None = None) -> None:
    """The whole filtered list into ``out`` as an xlsx workbook (write-only, so a large
    list is not held in memory): title, 单位：元, the filters and the time it was made
    (Beijing time), the header, the rows, the totals row. ``progress(rows written)``
    after each batch."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    spec = export.spec
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(str(spec.title)[:31])
    bold = Font(bold=True)

    def text(value, font=None):
        c = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", str(value)))
        c.data_type = "s"  # never a formula, whatever the text starts with
        if font is not None:
            c.font = font
        return c

    def cell(column: Column, value, font=None):
        value = cell_value(column, value)
        if isinstance(value, str):
            if font is None and not value.startswith("=") and not ILLEGAL_CHARACTERS_RE.search(value):
                return value  # a plain cell: the cheap path for most of a large sheet
            return text(value, font)
        if value is None or (font is None and column.kind != MONEY and not isinstance(value, date)):
            return value
        c = WriteOnlyCell(ws, value=value)
        if column.kind == MONEY:
            c.number_format = MONEY_FORMAT
        elif isinstance(value, datetime):
            c.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            c.number_format = DATE_FORMAT
        if font is not None:
            c.font = font
        return c

    for i, c in enumerate(spec.columns):
        ws.column_dimensions[chr(65 + i) if i < 26 else "A"].width = 16 if c.kind != TEXT else 30
    ws.append([text(spec.title, Font(bold=True, size=13))])
    ws.append([text(UNIT_LINE)])
    ws.append([text(_("Filters")), text(export.filters_text)])
    ws.append([text(_("Exported")), text(to_local(utcnow()).strftime("%Y-%m-%d %H:%M") + " (北京时间)")])
    ws.append([text(c.label, bold) for c in spec.columns])
    written = 0
    for batch in _batches(export.stmt, spec):
        extra = spec.extras(batch) if spec.extras is not None else {}
        for obj in batch:
            e = extra.get(obj.id, {})
            ws.append([cell(c, c.value(obj, e)) for c in spec.columns])
        written += len(batch)
        if progress is not None:
            progress(written)
    if export.totals:
        totals = export.totals
        first = text(_("Total (%(count)s rows)", count=export.count), bold)
        row = [first] + [cell(c, totals[c.key], bold) if c.key in totals else None for c in spec.columns[1:]]
        ws.append(row)
    wb.save(out)


def export_filename(spec: ListSpec) -> str:
    """The spreadsheet's file name: the list's name and the Beijing time it was made."""
    return f"{spec.name}-{to_local(utcnow()).strftime('%Y%m%d-%H%M')}.xlsx"


def xlsx_response(export: Export):
    """The spreadsheet written in the request (an export of at most
    ``EXPORT_INLINE_MAX_ROWS`` rows)."""
    out = SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
    write_xlsx(export, out)
    out.seek(0)
    return send_file(out, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=export_filename(export.spec),
                     max_age=0)
