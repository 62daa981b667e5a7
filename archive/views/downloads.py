"""Public downloads of exactly what the public can see (CSV, JSON, GeoJSON), streamed.

Published incidents only (with the incident list's filters), sources only when a published
incident cites them and never their full text (the public sees the cited passages), monuments with
their derived condition. Rows are read with `.iterator(chunk_size=…)` and written one by one, so
memory does not grow with the number of rows. CSV cells go through the same formula escaping as
every other export (archive.importexport.csvfile).
"""

import json
from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_safe

from ..filters import IncidentFilter
from ..importexport.csvfile import csv_lines
from ..importexport.tables import format_value
from ..models import Citation, Incident, Monument, Source

CHUNK_SIZE = 500

INCIDENT_COLUMNS = [
    "slug",
    "title",
    "kind",
    "site",
    "monuments",
    "perpetrator",
    "victims",
    "occurred_from",
    "occurred_to",
    "date_precision",
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
    filterset = IncidentFilter(request.GET or None, queryset=Incident.objects.public())
    if filterset.is_bound and not filterset.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items())
        return HttpResponseBadRequest(f"Bad filter: {errors}", content_type="text/plain; charset=utf-8")
    direction = "-" if filterset.descending else ""
    citations = Citation.objects.public().select_related("source").only(
        "incident_id", "quote", "position_start", "position_end", "claimant", "evidence_kind", "stance",
        "source__slug", "source__published_on",
    ).order_by("source__published_on", "position_start")  # fmt: skip
    queryset = (
        filterset.qs.with_counts()
        .select_related("site", "perpetrator")
        .prefetch_related(
            Prefetch("monuments", queryset=Monument.objects.public().order_by("slug")),
            *([Prefetch("citations", queryset=citations)] if fmt != "csv" else []),
        )
        .order_by(f"{direction}occurred_from", f"{direction}slug")
    )
    records = (_incident_record(request, incident, citations=fmt != "csv") for incident in _iterate(queryset))
    if fmt == "csv":
        return _csv_response("incidents", INCIDENT_COLUMNS, records)
    if fmt == "json":
        return _json_response("incidents", records)
    return _geojson_response("incidents", ((_geometry(r.pop("_points")), r) for r in records))


@require_safe
def monument_download(request, fmt):
    if fmt not in ("csv", "json", "geojson"):
        raise Http404("Monuments download as csv, json or geojson.")
    queryset = Monument.objects.public().with_condition().select_related("site").order_by("name", "slug")
    records = (_monument_record(request, monument) for monument in _iterate(queryset))
    if fmt == "csv":
        return _csv_response("monuments", MONUMENT_COLUMNS, records)
    if fmt == "json":
        return _json_response("monuments", records)
    return _geojson_response("monuments", ((_geometry([_point(r["latitude"], r["longitude"])]), r) for r in records))


@require_safe
def source_download(request, fmt):
    if fmt not in ("csv", "json"):
        raise Http404("Sources download as csv or json.")
    passages = (
        Citation.objects.public()
        .select_related("incident")
        .only("source_id", "quote", "position_start", "position_end", "incident__slug")
        .order_by("position_start", "pk")
    )
    queryset = (
        Source.objects.public()
        # The received text is evidence the public does not get whole (copyright): never loaded.
        .defer("received_text", "reading_text")
        .annotate(incident_count=_published_incident_count())
        .order_by("-published_on", "slug")
    )
    if fmt == "json":
        queryset = queryset.prefetch_related(Prefetch("citations", queryset=passages, to_attr="public_passages"))
    records = (_source_record(request, source, passages=fmt == "json") for source in _iterate(queryset))
    if fmt == "csv":
        return _csv_response("sources", SOURCE_COLUMNS, records)
    return _json_response("sources", records)


def _published_incident_count():
    citing = (
        Citation.objects.public()
        .filter(source=OuterRef("pk"))
        .order_by()
        .values("source")
        .annotate(n=Count("incident", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(citing), 0)


def _iterate(queryset):
    return queryset.iterator(chunk_size=CHUNK_SIZE)


def _incident_record(request, incident, *, citations):
    record = {
        "slug": incident.slug,
        "title": incident.title,
        "kind": incident.kind,
        "site": incident.site.slug,
        "monuments": [monument.slug for monument in incident.monuments.all()],
        "perpetrator": incident.perpetrator.slug,
        "victims": incident.victims,
        "occurred_from": incident.occurred_from.isoformat(),
        "occurred_to": incident.occurred_to.isoformat(),
        "date_precision": incident.date_precision,
        "date_wording": incident.date_wording,
        "assessment": incident.assessment,
        "description": incident.description,
        "citations": incident.citation_count,
        "independent_origins": incident.origin_count,
        "url": request.build_absolute_uri(incident.get_absolute_url()),
    }
    if citations:
        record["cited_passages"] = [
            {
                "source": citation.source.slug,
                "quote": citation.quote,
                "position_start": citation.position_start,
                "position_end": citation.position_end,
                "claimant": citation.claimant,
                "evidence_kind": citation.evidence_kind,
                "stance": citation.stance,
            }
            for citation in incident.citations.all()
        ]
        # For GeoJSON: where the incident happened, from its monuments or else its site.
        record["_points"] = [_point(m.latitude, m.longitude) for m in incident.monuments.all()] or [
            _point(incident.site.latitude, incident.site.longitude)
        ]
    return record


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


def _source_record(request, source, *, passages):
    record = {
        "slug": source.slug,
        "title": source.title,
        "publisher": source.publisher,
        "origin": source.origin,
        "byline": source.byline,
        "source_url": source.url,
        "published_on": format_value(source.published_on) or None,
        "date_precision": source.date_precision,
        "language": source.language,
        "sha256": source.sha256,
        "incidents": source.incident_count,
        "url": request.build_absolute_uri(source.get_absolute_url()),
    }
    if passages:
        record["cited_passages"] = [
            {
                "incident": citation.incident.slug,
                "quote": citation.quote,
                "position_start": citation.position_start,
                "position_end": citation.position_end,
            }
            for citation in source.public_passages
        ]
    return record


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


def _csv_response(name, columns, records):
    rows = ([_cell(record[column]) for column in columns] for record in records)
    response = StreamingHttpResponse(csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
    return _attachment(response, f"{name}.csv")


def _json_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float, list, dict)):
        return value
    return format_value(value)


def _dumps(record):
    record.pop("_points", None)
    return json.dumps({key: _json_value(value) for key, value in record.items()}, ensure_ascii=False)


def _json_lines(records):
    yield "[\n"
    separator = ""
    for record in records:
        yield separator + _dumps(record)
        separator = ",\n"
    yield "\n]\n"


def _json_response(name, records):
    response = StreamingHttpResponse(_json_lines(records), content_type="application/json; charset=utf-8")
    return _attachment(response, f"{name}.json")


def _geojson_lines(features):
    yield '{"type": "FeatureCollection", "features": [\n'
    separator = ""
    for geometry, record in features:
        properties = _dumps(record)
        yield f'{separator}{{"type": "Feature", "geometry": {json.dumps(geometry)}, "properties": {properties}}}'
        separator = ",\n"
    yield "\n]}\n"


def _geojson_response(name, features):
    response = StreamingHttpResponse(_geojson_lines(features), content_type="application/geo+json; charset=utf-8")
    return _attachment(response, f"{name}.geojson")
