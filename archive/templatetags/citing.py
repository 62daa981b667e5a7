"""Template filters for quoting and citing: quotation marks that are never doubled, dates in words."""

import datetime

from django import template
from django.utils import timezone

from ..dates import say_day

register = template.Library()

# Marks a quotation may open with (curly, straight, single, guillemets, low-9).
OPENING = "“\"‘'«„"


@register.filter
def quoted(text):
    """The words in “curly quotes”, unless they open with a quotation mark of their own (a quote
    that is itself a quotation, “The army is 300 metres…,” a military source said): then as they
    are, so the reader never sees ““ — the blockquote or the context says it is quoted."""
    text = (text or "").strip()
    if not text or text[0] in OPENING:
        return text
    return f"“{text}”"


@register.filter
def in_words(value):
    """A day (or the local day of a moment) in words: “24 March 2016”."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return say_day(value)
