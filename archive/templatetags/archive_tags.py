"""Template filters of the public pages: dates at their precision, right-to-left names, passages."""

import re

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..dates import say_day
from ..models import Condition, DatePrecision
from ..views.when import incident_when

register = template.Library()

_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
PASSAGE_CONTEXT = 300


def _format(day, precision):
    if precision == DatePrecision.YEAR:
        return f"{day.year}"
    if precision == DatePrecision.MONTH:
        return f"{day:%B %Y}"
    return say_day(day)


@register.filter
def precise_date(day, precision=DatePrecision.DAY):
    """A date said no more exactly than it is known: “24 March 2016”, “March 2016”, “2016”."""
    if day is None:
        return "date not established"
    return _format(day, precision)


@register.filter
def incident_dates(incident):
    """When an incident happened, as its sources give it: “10–11 December 2016”, “by 24 March
    2016”, “Undated”. Never a bound the sources do not give (archive.dates.When)."""
    return incident_when(incident).text


# A day, a month or a year: the EDTF value is itself a valid HTML datetime.
_HTML_DATETIME = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


@register.filter(name="incident_when")
def incident_when_html(incident):
    """The incident's date as HTML: a <time> whose datetime is the EDTF value, or the start of its
    range, when that is a plain day, month or year (2016-03-24, 2015-05, 2015: valid HTML dates, as
    precise as the sources); else a <span> — no machine-readable day the sources do not give."""
    when = incident_when(incident)
    start = when.edtf.partition("/")[0]
    if _HTML_DATETIME.fullmatch(start):
        return format_html('<time datetime="{}">{}</time>', start, when.text)
    return format_html('<span class="when-{}">{}</span>', when.precision, when.text)


@register.filter
def actor_roles(incident):
    """Each actor of the incident linked to its page, with its role: “Islamic State
    (perpetrator); Russia (supporting force)”. Reads `actor_links` (prefetch `actor_links__actor`)."""
    return format_html_join(
        "; ",
        '<a href="{}">{}</a> <span class="role role-{}">({})</span>',
        (
            (link.actor.get_absolute_url(), link.actor.name, link.role, link.get_role_display().lower())
            for link in incident.actor_links.all()
        ),
    )


@register.filter
def roles_of(incident, actor):
    """The roles `actor` has in `incident`, in words: “perpetrator”, “supporting force”."""
    return ", ".join(
        link.get_role_display().lower() for link in incident.actor_links.all() if link.actor_id == actor.pk
    )


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
