"""Template filters of the public pages: dates at their precision, right-to-left names, passages."""

import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..models import Condition, DatePrecision

register = template.Library()

_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
PASSAGE_CONTEXT = 300


def _format(day, precision):
    if precision == DatePrecision.YEAR:
        return f"{day.year}"
    if precision == DatePrecision.MONTH:
        return f"{day:%B %Y}"
    return f"{day.day} {day:%B %Y}"


@register.filter
def precise_date(day, precision=DatePrecision.DAY):
    """A date said no more exactly than it is known: “24 March 2016”, “March 2016”, “2016”."""
    if day is None:
        return "date not established"
    return _format(day, precision)


@register.filter
def incident_dates(incident):
    """When an incident happened, as a range when the sources give one."""
    start = _format(incident.occurred_from, incident.date_precision)
    end = _format(incident.occurred_to, incident.date_precision)
    return start if start == end else f"{start} – {end}"


@register.filter
def script_attrs(text):
    """`lang`/`dir` attributes for a name: Arabic script reads right to left."""
    if text and _ARABIC.search(str(text)):
        return mark_safe(' lang="ar" dir="rtl"')
    return mark_safe(' dir="auto"')


@register.filter
def condition_label(value):
    try:
        return Condition(value).label
    except ValueError:
        return Condition.UNKNOWN.label


@register.simple_tag
def passage(text, start, end):
    """The paragraph of `text` holding text[start:end], with that span marked (at most
    PASSAGE_CONTEXT characters either side: the public sees the passage, not the article)."""
    before = text.rfind("\n", 0, start)
    after = text.find("\n", end)
    para_start = 0 if before == -1 else before + 1
    para_end = len(text) if after == -1 else after
    lead = "…" if start - para_start > PASSAGE_CONTEXT else ""
    tail = "…" if para_end - end > PASSAGE_CONTEXT else ""
    para_start = max(para_start, start - PASSAGE_CONTEXT)
    para_end = min(para_end, end + PASSAGE_CONTEXT)
    return format_html(
        "{}{}<mark>{}</mark>{}{}", lead, text[para_start:start], text[start:end], text[end:para_end], tail
    )
