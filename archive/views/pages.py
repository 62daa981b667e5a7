"""Public, read-only pages. Only published incidents, and what they cite, are shown.

Function views rather than ListView/DetailView: the lists page by keyset (see `paging.py`), which
Django's Paginator does not do, and each detail page gathers a few related lists of its own.
Every view answers GET and HEAD only.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import BadRequest
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_safe

from .. import charts, plans
from ..citing import ARCHIVE_NAME, how_to_cite, last_updated
from ..filters import IncidentFilter
from ..models import (
    Actor,
    ActorRole,
    Assessment,
    Citation,
    Figure,
    Image,
    Incident,
    IncidentActor,
    Monument,
    Presentation,
    Site,
    Source,
)
from ..search import RANKED_AT_MOST, with_snippets
from .aggregates import cached, data_version
from .paging import BOUND, DATE, RANK, BadCursor, Key, KeysetPaginator

INCIDENT_PAGE_SIZE = 50
# What each role means, for the methodology page (every ActorRole must have one).
ROLE_MEANINGS = {
    ActorRole.PERPETRATOR: "The sources say the actor did it: blew up the temple, shelled the quarter, seized the "
    "town.",
    ActorRole.SUPPORTING: "The sources say the actor fought beside the perpetrator or made the act possible: air "
    "cover, allied militias.",
    ActorRole.CLAIMED: "The actor claimed responsibility, in a statement or its own media; the claim is recorded as "
    "a claim, not as established.",
    ActorRole.ACCUSED: "A claimant in the sources accuses the actor (“activists accused government forces”); the "
    "accusation is the claimant's, not the archive's.",
}
NESTED_PAGE_SIZE = 20
LATEST = 10


def _page(paginator, queryset, request, prepare=None, count_key=None):
    """The requested page; with `count_key`, the (capped) count of matching rows is cached under it."""
    count = (lambda compute: cached(f"count:{count_key}", compute)) if count_key else None
    try:
        return paginator.page(queryset, request.GET, prepare=prepare, count=count)
    except BadCursor:
        raise BadRequest("The page cursor in this address is malformed; start again from the first page.") from None


def _incident_paginator(size=INCIDENT_PAGE_SIZE, descending=False):
    # occurred_from holds NO_EARLIER for an undated incident or an open start: the cursor names it
    # without the sentinel day (paging.BOUND), and such rows sort first, oldest first.
    return KeysetPaginator(
        [Key("occurred_from", descending=descending, parse=BOUND.parse, format=BOUND.format),
         Key("slug", descending=descending)],
        size=size,
    )  # fmt: skip


def _actor_links():
    """An incident's actors with their roles, in the order curated (Incident.actor_roles reads them)."""
    return Prefetch("actor_links", queryset=IncidentActor.objects.select_related("actor").order_by("id"))


def _citation_cards(citations):
    """What a citation card shows: its source, the citation it contradicts and those contradicting
    it (public ones only), its figures."""
    contradicting = Citation.objects.public().select_related("source", "incident").order_by("pk")
    return citations.select_related("source", "contradicts__source", "contradicts__incident").prefetch_related(
        "figures", Prefetch("contradicted_by", queryset=contradicting, to_attr="public_contradicted_by")
    )


def _incident_rows(queryset):
    return queryset.select_related("site").prefetch_related("monuments", _actor_links()).with_counts()


def _incidents_with_citations(queryset):
    citations = _citation_cards(Citation.objects.public()).order_by("source__published_on", "position_start")
    return _incident_rows(queryset).prefetch_related(Prefetch("citations", queryset=citations))


def _timeline_data(version, site=None):
    """Incidents per month, changes of control and the incidents not drawn, for the whole archive
    or one site (cached)."""
    incidents = charts.published_incidents(site)
    return cached(
        f"timeline-v2:{site.pk if site else 'all'}",
        lambda: (
            charts.month_counts(incidents),
            charts.control_changes(incidents, keys=True),
            charts.unplaced_counts(incidents),
        ),
        version,
    )


def _timeline(version, site=None, width=charts.WIDE):
    """The timeline of the whole archive or one site, its actors coloured as in every other chart:
    by the actors who hold a site anywhere in the archive (charts.actor_colours)."""
    counts, changes, unplaced = _timeline_data(version, site)
    actors = cached("timeline-v2:actors", lambda: charts.controlling_actors(charts.published_incidents()), version)
    colours = charts.actor_colours(actors=actors)
    params = {"site": site.slug} if site else None
    return charts.timeline(counts, changes, params, width=width, unplaced=unplaced, colours=colours)


def _plans(monuments):
    """One site plan per site, from monuments annotated with their condition."""
    by_site = {}
    for monument in monuments:
        by_site.setdefault(monument.site, []).append(monument)
    return [(site, plans.site_plan(located, site)) for site, located in by_site.items()]


@require_safe
def home(request):
    version = data_version()
    incidents = Incident.objects.public()
    counts = cached(
        "home-counts",
        lambda: {
            "incidents": incidents.count(),
            "sources": Source.objects.public().count(),
            "monuments": Monument.objects.public().count(),
            "actors": Actor.objects.public().count(),
        },
        version,
    )
    located = (
        Monument.objects.public()
        .with_condition()
        .filter(latitude__isnull=False)
        .select_related("site")
        .order_by("site__name", "name")
    )
    context = {
        "counts": counts,
        "latest": _incident_rows(incidents.order_by("-occurred_from", "-slug"))[:LATEST],
        "plans": _plans(located),
        "timeline": _timeline(version),
        "timeline_narrow": _timeline(version, width=charts.NARROW),
    }
    return render(request, "archive/home.html", context)


@require_safe
def site_list(request):
    """The places the record covers, with how many published incidents each has."""
    published = Incident.objects.public().filter(site=OuterRef("pk")).order_by().values("site")
    sites = (
        Site.objects.public()
        .select_related("parent")
        .annotate(incident_count=Coalesce(Subquery(published.annotate(n=Count("pk")).values("n")), 0))
    )
    sites = list(sites.order_by("name"))
    shown = {site.pk for site in sites}
    for site in sites:  # a parent the public cannot see is not named
        site.public_parent = site.parent if site.parent_id in shown else None
    return render(request, "archive/site_list.html", {"sites": sites})


@require_safe
def site_detail(request, slug):
    site = get_object_or_404(Site.objects.public(), slug=slug)
    version = data_version()
    monuments = list(Monument.objects.public().with_condition().filter(site=site).order_by("name"))
    located = [monument for monument in monuments if monument.latitude is not None]
    incident_count = cached(
        f"site-count:{site.pk}", lambda: Incident.objects.public().filter(site=site).count(), version
    )
    context = {
        "site": site,
        "last_updated": last_updated(site),
        "monuments": monuments,
        "plan": plans.site_plan(located, site),
        "timeline": _timeline(version, site),
        "timeline_narrow": _timeline(version, site, width=charts.NARROW),
        "incident_count": incident_count,
    }
    return render(request, "archive/site_detail.html", context)


@require_safe
def site_plan_svg(request, slug):
    site = get_object_or_404(Site.objects.public(), slug=slug)
    monuments = Monument.objects.public().with_condition().filter(site=site, latitude__isnull=False)
    plan = plans.site_plan(monuments, site)
    # A site none of whose monuments has coordinates has a plan that says so, not a 404.
    template = "includes/site_plan.svg" if plan else "includes/site_plan_none.svg"
    svg = render_to_string(template, {"plan": plan, "site": site, "standalone": True})
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


@require_safe
def timeline_svg(request):
    site = None
    if request.GET.get("site"):
        site = get_object_or_404(Site.objects.public(), slug=request.GET["site"])
    timeline = _timeline(data_version(), site) or charts.empty_timeline()
    svg = render_to_string("includes/timeline.svg", {"timeline": timeline, "site": site, "standalone": True})
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


@require_safe
def monument_list(request):
    paginator = KeysetPaginator([Key("name"), Key("slug")], size=INCIDENT_PAGE_SIZE)
    images = Prefetch("images", queryset=Image.objects.public().order_by("taken_on", "pk"))
    page = _page(
        paginator,
        Monument.objects.public(),
        request,
        prepare=lambda qs: qs.with_condition().select_related("site").prefetch_related(images),
    )
    return render(request, "archive/monument_list.html", {"page": page})


@require_safe
def monument_detail(request, slug):
    monument = get_object_or_404(Monument.objects.public().with_condition().select_related("site"), slug=slug)
    incidents = Incident.objects.public().filter(monuments=monument)
    page = _page(
        _incident_paginator(NESTED_PAGE_SIZE),
        incidents,
        request,
        prepare=_incidents_with_citations,
        count_key=f"monument:{monument.pk}",
    )
    context = {
        "monument": monument,
        "page": page,
        "images": Image.objects.public().filter(monument=monument),
        "last_updated": last_updated(monument),
    }
    return render(request, "archive/monument_detail.html", context)


@require_safe
def incident_list(request):
    filterset = IncidentFilter(request.GET or None, queryset=Incident.objects.public(), request=request)
    context = {"filter": filterset, "filter_query": "", "page": None, "ranked_at_most": f"{RANKED_AT_MOST:,}"}
    if filterset.is_bound and not filterset.is_valid():
        # A clear 400 that says which filter is wrong, rather than a list that silently ignores it.
        return render(request, "archive/incident_list.html", context, status=400)
    if filterset.is_bound:
        context["filter_query"] = urlencode(filterset.clean_params())
    paginator, prepare = _incident_paginator(descending=filterset.descending), _incident_rows
    if filterset.search_text:
        # Each result shows where the words were found; best match first unless another order is chosen.
        def prepare(queryset):
            return with_snippets(_incident_rows(queryset), filterset.search_text)

        if filterset.ranked:
            keys = [Key("search_rank", descending=True, parse=RANK), Key("slug")]
            paginator = KeysetPaginator(keys, size=INCIDENT_PAGE_SIZE)
    context["page"] = _page(
        paginator, filterset.qs, request, prepare=prepare, count_key=f"incidents:{context['filter_query']}"
    )
    return render(request, "archive/incident_list.html", context)


def _merged_survivor(slug, limit=10):
    """The public incident an incident merged into (through any chain of merges), if any."""
    incident = Incident.objects.filter(slug=slug, merged_into__isnull=False).only("merged_into").first()
    for _ in range(limit):
        if incident is None or incident.merged_into_id is None:
            break
        incident = Incident.objects.only("slug", "status", "merged_into").get(pk=incident.merged_into_id)
        if incident.merged_into_id is None:
            return incident if Incident.objects.public().filter(pk=incident.pk).exists() else None
    return None


@require_safe
def incident_detail(request, slug):
    incident = (
        Incident.objects.public()
        .with_counts()
        .select_related("site")
        .prefetch_related(_actor_links())
        .filter(slug=slug)
        .first()
    )
    if incident is None:
        # A merged incident's address leads to the one it was merged into (the slug is kept).
        survivor = _merged_survivor(slug)
        if survivor is not None:
            return redirect(survivor.get_absolute_url(), permanent=True)
        # One the public saw and that was withdrawn: gone, and the notice says when and why.
        withdrawn = Incident.objects.withdrawn_from_public().filter(slug=slug).first()
        if withdrawn is None:
            raise Http404("No such incident.")
        return render(request, "archive/incident_withdrawn.html", {"incident": withdrawn}, status=410)
    updated = last_updated(incident)
    permanent_url = request.build_absolute_uri(incident.get_absolute_url())
    context = {
        "incident": incident,
        "last_updated": updated,
        "permanent_url": permanent_url,
        "archive_name": ARCHIVE_NAME,
        "how_to_cite": how_to_cite(incident, permanent_url, updated, timezone.localdate()),
        "monuments": Monument.objects.public().with_condition().filter(incidents=incident).order_by("name"),
        "citations": _citation_cards(Citation.objects.public().filter(incident=incident)).order_by(
            "source__published_on", "position_start"
        ),
        "images": Image.objects.public().filter(incident=incident),
        "figures": Figure.objects.filter(citation__in=Citation.objects.public().filter(incident=incident))
        .select_related("citation__source")
        .order_by("measure", "low", "pk"),
    }
    return render(request, "archive/incident_detail.html", context)


def _published_citing(source_ref):
    """How many published incidents cite the source, as a subquery."""
    citing = (
        Citation.objects.public()
        .filter(source=source_ref)
        .order_by()
        .values("source")
        .annotate(n=Count("incident", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(citing), 0)


@require_safe
def source_list(request):
    paginator = KeysetPaginator(
        [Key("published_on", descending=True, nullable=True, parse=DATE), Key("slug")], size=INCIDENT_PAGE_SIZE
    )
    page = _page(
        paginator,
        Source.objects.public(),
        request,
        prepare=lambda qs: qs.annotate(incident_count=_published_citing(OuterRef("pk"))).defer(
            "received_text", "reading_text"
        ),
        count_key="sources",
    )
    return render(request, "archive/source_list.html", {"page": page})


@require_safe
def source_detail(request, slug):
    source = get_object_or_404(Source.objects.public(), slug=slug)
    citations = Citation.objects.public().filter(source=source).select_related("incident").order_by("position_start")
    context = {
        "source": source,
        "last_updated": last_updated(source),
        "citations": citations,
        "show_full_text": request.user.is_active and request.user.is_staff,
    }
    return render(request, "archive/source_detail.html", context)


@require_safe
def actor_list(request):
    paginator = KeysetPaginator([Key("name"), Key("slug")], size=INCIDENT_PAGE_SIZE)
    return render(request, "archive/actor_list.html", {"page": _page(paginator, Actor.objects.public(), request)})


@require_safe
def actor_detail(request, slug):
    actor = get_object_or_404(Actor.objects.public(), slug=slug)
    incidents = Incident.objects.public().with_actor(actor)
    page = _page(_incident_paginator(), incidents, request, prepare=_incident_rows, count_key=f"actor:{actor.pk}")
    # The incident list's filter names perpetrators only: link to it when the actor is one.
    is_perpetrator = incidents.with_perpetrator(actor).exists() if page.count else False
    context = {"actor": actor, "page": page, "is_perpetrator": is_perpetrator, "last_updated": last_updated(actor)}
    return render(request, "archive/actor_detail.html", context)


@require_safe
def methodology(request):
    """How the archive assesses incidents: the rules the code applies, printed from the code."""
    from ..models.assessment import RULES

    context = {
        "archive_name": ARCHIVE_NAME,
        # Where readers report errors: ARCHIVE_CONTACT_EMAIL when the installation sets one.
        "contact_email": getattr(settings, "ARCHIVE_CONTACT_EMAIL", ""),
        "rules": [(Assessment(level).label, level, text) for level, text in RULES],
        "presentations": Presentation.choices,
        "roles": [(role.value, role.label, ROLE_MEANINGS[role]) for role in ActorRole],
    }
    return render(request, "archive/methodology.html", context)
