"""Public downloads of exactly what the public can see (CSV, JSON, GeoJSON), streamed.

Published incidents only (with the incident list's filters), sources only when a published
incident cites them and never their full text (the public sees the cited passages), monuments with
their derived condition. Rows are read as tuples with `.iterator(chunk_size=…)` and written a chunk
at a time, so memory does not grow with the number of rows. CSV cells go through the same formula
escaping as every other export (archive.importexport.escaping).
"""

import csv
import itertools
import json
import re
from decimal import Decimal
from operator import itemgetter

from django.db.models import Count, Q
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from ..dates import NO_EARLIER, NO_LATER
from ..filters import IncidentFilter
from ..importexport.escaping import escape_cell
from ..importexport.tables import format_value
from ..models import Citation, Incident, IncidentActor, Monument, Site, Source
from ..models.assessment import claim_origin, corroborating
from ..models.identifiers import format_identifier
from .when import precision_of

# Rows per database chunk and per piece of the response (a few hundred kB).
CHUNK_SIZE = 2000

INCIDENT_COLUMNS = [
    "slug",
    "identifier",
    "title",
    "kind",
    "site",
    "monuments",
    "actors",
    "victims",
    "occurred",
    "earliest",
    "latest",
    "precision",
    "date_wording",
    "assessment",
    "description",
    "citations",
    "independent_origins",
    "url",
]
MONUMENT_COLUMNS = [
    "slug",
    "name",
    "site",
    "kind",
    "period",
    "aliases",
    "latitude",
    "longitude",
    "wikidata",
    "condition",
    "url",
]
SOURCE_COLUMNS = [
    "slug",
    "title",
    "publisher",
    "origin",
    "byline",
    "source_url",
    "published_on",
    "date_precision",
    "language",
    "sha256",
    "incidents",
    "url",
]


@require_safe
def incident_download(request, fmt):
    if fmt not in ("csv", "json", "geojson"):
        raise Http404("Incidents download as csv, json or geojson.")
    filterset = IncidentFilter(request.GET or None, queryset=Incident.objects.public(), request=request)
    if filterset.is_bound and not filterset.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items())
        return HttpResponseBadRequest(f"Bad filter: {errors}", content_type="text/plain; charset=utf-8")
    direction = "-" if filterset.descending else ""
    order = [f"{direction}occurred_from", f"{direction}slug"]
    records = _incident_records(request, filterset.qs.order_by(*order), order, fmt=fmt)
    if fmt == "csv":
        return _csv_response("incidents", INCIDENT_COLUMNS, records)
    if fmt == "json":
        return _json_response("incidents", records)
    return _geojson_response("incidents", records)


@require_safe
def monument_download(request, fmt):
    if fmt not in ("csv", "json", "geojson"):
        raise Http404("Monuments download as csv, json or geojson.")
    queryset = Monument.objects.public().with_condition().select_related("site").order_by("name", "slug")
    records = (_monument_record(request, monument) for monument in queryset.iterator(chunk_size=CHUNK_SIZE))
    if fmt == "csv":
        cells = ([_cell(record[column]) for column in MONUMENT_COLUMNS] for record in records)
        return _csv_response("monuments", MONUMENT_COLUMNS, _batches(cells))
    if fmt == "json":
        return _json_response("monuments", _batches((_json_ready(r), None) for r in records))
    return _geojson_response(
        "monuments", _batches((_json_ready(r), _geometry([_point(r["latitude"], r["longitude"])])) for r in records)
    )


@require_safe
def source_download(request, fmt):
    if fmt not in ("csv", "json"):
        raise Http404("Sources download as csv or json.")
    # The received text is evidence the public does not get whole (copyright): never selected.
    sources = Source.objects.public().order_by("-published_on", "slug")
    records = _source_records(request, sources, fmt=fmt)
    if fmt == "csv":
        return _csv_response("sources", SOURCE_COLUMNS, records)
    return _json_response("sources", records)


# Rows are read as tuples, CHUNK_SIZE at a time, and each chunk is written as one piece of the
# response. What a row needs from other tables (citation counts, monuments, cited passages) comes
# from one more query per table for the whole download, ordered as the rows are and read alongside
# them (`_Alongside`): no query per chunk or per row, no list of ids sent back to the database.

INCIDENT_FIELDS = (
    "pk", "identifier_prefix", "identifier_number", "slug", "title", "kind", "site__slug", "victims", "occurred",
    "occurred_from", "occurred_to", "date_wording", "assessment", "description",
)  # fmt: skip
SOURCE_FIELDS = (
    "pk", "slug", "title", "publisher", "origin", "byline", "url", "published_on", "date_precision", "language",
    "sha256",
)  # fmt: skip


def _batches(rows):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


class _Alongside:
    """The rows of a second query, keyed by their first column and ordered as the download's rows,
    handed out key by key as the download reaches them. Rows of a key the download has passed
    would mean the two orders disagree: `finish()` then raises, so the response ends unfinished
    rather than with a wrong count."""

    def __init__(self, queryset):
        self.groups = itertools.groupby(queryset.iterator(chunk_size=CHUNK_SIZE), key=itemgetter(0))
        self.key, self.group = next(self.groups, (_NOTHING, ()))

    def take(self, key):
        """The rows of `key` (the download's next row), or () if it has none."""
        if self.key != key:
            return ()
        group = list(self.group)
        self.key, self.group = next(self.groups, (_NOTHING, ()))
        return group

    def finish(self):
        if self.key is not _NOTHING:
            raise RuntimeError(f"Download rows and their related rows are not in the same order (at {self.key!r}).")


_NOTHING = object()


def _url_maker(request, name):
    """slug → absolute URL of its public page, without a reverse() per row for ordinary slugs."""
    head, _, tail = request.build_absolute_uri(reverse(f"archive:{name}", kwargs={"slug": "SLUG"})).rpartition("SLUG")

    def url(slug):
        if _PLAIN_SLUG(slug):
            return f"{head}{slug}{tail}"
        return request.build_absolute_uri(reverse(f"archive:{name}", kwargs={"slug": slug}))

    return url


_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+").fullmatch


def _incident_records(request, incidents, order, *, fmt):
    """Batches of the incident rows, in their order: lists of CSV cells, or (record, geometry)."""
    passages = fmt != "csv"
    geojson = fmt == "geojson"
    url = _url_maker(request, "incident-detail")
    # Public monuments and sites are few (they are places, not events): looked up once per download.
    monuments = {
        pk: (slug, _point(latitude, longitude))
        for pk, slug, latitude, longitude in Monument.objects.public().values_list(
            "pk", "slug", "latitude", "longitude"
        )
    }
    sites = {
        slug: _point(latitude, longitude)
        for slug, latitude, longitude in Site.objects.public().values_list("slug", "latitude", "longitude")
    }
    # The related rows, in the order of the incidents: `order` is theirs, seen from a citation or link.
    related_order = [f"{'-' if field.startswith('-') else ''}incident__{field.lstrip('-')}" for field in order]
    chosen = incidents.values("pk")
    citations = Citation.objects.public().filter(incident__in=chosen)
    counts = _Alongside(
        citations.values("incident_id")
        # Independent origins by the assessment's own rule (archive.models.assessment).
        .annotate(n=Count("pk"), origins=Count(claim_origin(), distinct=True, filter=corroborating()))
        .order_by(*related_order)
        .values_list("incident_id", "n", "origins")
    )
    links = _Alongside(
        Incident.monuments.through.objects.filter(incident__in=chosen)
        .order_by(*related_order)
        .values_list("incident_id", "monument_id")
    )
    # Each incident's actors with their roles, in the order curated.
    actors = _Alongside(
        IncidentActor.objects.filter(incident__in=chosen)
        .order_by(*related_order, "id")
        .values_list("incident_id", "role", "actor__slug")
    )
    cited = None
    if passages:
        cited = _Alongside(
            citations.order_by(*related_order, "source__published_on", "position_start", "pk").values_list(
                "incident_id",
                "source__slug",
                "quote",
                "position_start",
                "position_end",
                "claimant",
                "evidence_kind",
                "stance",
            )  # fmt: skip
        )
    rows = incidents.values_list(*INCIDENT_FIELDS).iterator(chunk_size=CHUNK_SIZE)
    for batch in _batches(rows):
        records = []
        for (
            pk, prefix, number, slug, title, kind, site, victims, occurred, occurred_from, occurred_to, date_wording,
            assessment, description,
        ) in batch:  # fmt: skip
            places = sorted(monuments[monument] for _pk, monument in links.take(pk) if monument in monuments)
            counted = counts.take(pk)
            _pk, n, origins = counted[0] if counted else (pk, 0, 0)
            roles = [(role, actor) for _pk, role, actor in actors.take(pk)]
            # A bound the sources do not give is empty, never the stored sentinel (archive.dates).
            earliest = "" if occurred_from == NO_EARLIER else occurred_from.isoformat()
            latest = "" if occurred_to == NO_LATER else occurred_to.isoformat()
            precision = precision_of(occurred)
            identifier = format_identifier(prefix, number)
            if not passages:
                records.append(
                    [
                        slug, identifier, title, kind, site, ";".join([monument for monument, _point in places]),
                        ";".join(f"{role}:{actor}" for role, actor in roles), victims, occurred, earliest, latest,
                        precision, date_wording, assessment, description, str(n), str(origins), url(slug),
                    ]
                )  # fmt: skip
                continue
            record = {
                "slug": slug,
                "identifier": identifier,
                "title": title,
                "kind": kind,
                "site": site,
                "monuments": [monument for monument, _point in places],
                "actors": [{"actor": actor, "role": role} for role, actor in roles],
                "victims": victims,
                "occurred": occurred,
                "earliest": earliest or None,
                "latest": latest or None,
                "precision": precision,
                "date_wording": date_wording,
                "assessment": assessment,
                "description": description,
                "citations": n,
                "independent_origins": origins,
                "url": url(slug),
                "cited_passages": [
                    {
                        "source": source,
                        "quote": quote,
                        "position_start": start,
                        "position_end": end,
                        "claimant": claimant,
                        "evidence_kind": evidence_kind,
                        "stance": stance,
                    }
                    for _pk, source, quote, start, end, claimant, evidence_kind, stance in cited.take(pk)
                ],
            }
            # For GeoJSON: where the incident happened, from its monuments or else its site.
            geometry = _geometry([point for _slug, point in places] or [sites[site]]) if geojson else None
            records.append((record, geometry))
        yield records
    for alongside in (counts, links, actors, cited):
        if alongside is not None:
            alongside.finish()


def _source_records(request, sources, *, fmt):
    """Batches of the source rows with the number of published incidents citing each: lists of CSV
    cells, or (record, None) with their cited passages."""
    passages = fmt == "json"
    url = _url_maker(request, "source-detail")
    citations = Citation.objects.public()
    if passages:
        # In the sources' order, seen from a citation.
        related_order = ["-source__published_on", "source__slug", "position_start", "pk"]
        cited = _Alongside(
            citations.order_by(*related_order).values_list(
                "source_id", "incident_id", "incident__slug", "quote", "position_start", "position_end"
            )
        )
        fields = SOURCE_FIELDS
    else:
        # The count joined to the sources' own query: cheaper than a second query in their order.
        public = Q(citations__in=citations.order_by())
        sources = sources.annotate(n=Count("citations__incident", distinct=True, filter=public))
        fields = (*SOURCE_FIELDS, "n")
    rows = sources.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)
    for batch in _batches(rows):
        records = []
        if not passages:
            for _pk, slug, title, publisher, origin, byline, source_url, published_on, *cells, n in batch:
                published = published_on.isoformat() if published_on else ""
                # cells: date_precision, language, sha256
                records.append(
                    [slug, title, publisher, origin, byline, source_url, published, *cells, str(n), url(slug)]
                )
            yield records
            continue
        for pk, slug, title, publisher, origin, byline, source_url, published_on, precision, language, sha in batch:
            passages_of = cited.take(pk)
            record = {
                "slug": slug,
                "title": title,
                "publisher": publisher,
                "origin": origin,
                "byline": byline,
                "source_url": source_url,
                "published_on": published_on.isoformat() if published_on else None,
                "date_precision": precision,
                "language": language,
                "sha256": sha,
                "incidents": len({incident for _pk, incident, *_rest in passages_of}),
                "url": url(slug),
                "cited_passages": [
                    {"incident": incident_slug, "quote": quote, "position_start": start, "position_end": end}
                    for _pk, _incident, incident_slug, quote, start, end in passages_of
                ],
            }
            records.append((record, None))
        yield records
    if passages:
        cited.finish()


def _monument_record(request, monument):
    return {
        "slug": monument.slug,
        "name": monument.name,
        "site": monument.site.slug,
        "kind": monument.kind,
        "period": monument.period,
        "aliases": monument.alias_list,
        "latitude": monument.latitude,
        "longitude": monument.longitude,
        "wikidata": monument.wikidata,
        "condition": monument.condition,
        "url": request.build_absolute_uri(monument.get_absolute_url()),
    }


def _point(latitude, longitude):
    if latitude is None or longitude is None:
        return None
    return [float(longitude), float(latitude)]  # GeoJSON order: longitude, latitude


def _geometry(points):
    points = [point for point in points if point is not None]
    if not points:
        return None
    if len(points) == 1:
        return {"type": "Point", "coordinates": points[0]}
    return {"type": "MultiPoint", "coordinates": points}


def _cell(value):
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return format_value(value)


def _attachment(response, name):
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# The writers below take batches of (record, geometry) and write each batch as one piece of the
# response. If reading a batch fails, the exception leaves the generator before the closing bracket
# is written: the server then breaks the connection without the last chunk of the chunked encoding,
# so the client sees an incomplete transfer rather than a file that looks whole.


class _Piece:
    """A file for the csv writer that keeps what is written until it is taken."""

    def __init__(self):
        self.parts = []
        self.write = self.parts.append

    def take(self):
        text = "".join(self.parts)
        self.parts.clear()
        return text


def _csv_lines(columns, batches):
    """The header and then each batch of rows as one piece, every cell escaped against formulas."""
    piece = _Piece()
    writer = csv.writer(piece, lineterminator="\r\n")
    writer.writerow(map(escape_cell, columns))
    for batch in batches:
        writer.writerows(map(escape_cell, cells) for cells in batch)
        yield piece.take()
    if piece.parts:  # no rows: the header alone
        yield piece.take()


def _csv_response(name, columns, batches):
    response = StreamingHttpResponse(_csv_lines(columns, batches), content_type="text/csv; charset=utf-8")
    return _attachment(response, f"{name}.csv")


def _json_ready(record):
    return {key: _json_value(value) for key, value in record.items()}


def _json_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float, list, dict)):
        return value
    return format_value(value)


_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _json_lines(batches):
    yield "[\n"
    separator = ""
    for batch in batches:
        if batch:
            yield separator + ",\n".join(_dumps(record) for record, _geometry in batch)
            separator = ",\n"
    yield "\n]\n"


def _json_response(name, batches):
    response = StreamingHttpResponse(_json_lines(batches), content_type="application/json; charset=utf-8")
    return _attachment(response, f"{name}.json")


def _geojson_lines(batches):
    yield '{"type": "FeatureCollection", "features": [\n'
    separator = ""
    for batch in batches:
        if batch:
            features = (
                _dumps({"type": "Feature", "geometry": geometry, "properties": record}) for record, geometry in batch
            )
            yield separator + ",\n".join(features)
            separator = ",\n"
    yield "\n]}\n"


def _geojson_response(name, batches):
    response = StreamingHttpResponse(_geojson_lines(batches), content_type="application/geo+json; charset=utf-8")
    return _attachment(response, f"{name}.geojson")
