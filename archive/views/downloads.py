"""Public downloads of exactly what the public can see (CSV, JSON, GeoJSON), streamed.

Published incidents only (with the incident list's filters), sources only when a published
incident cites them and never their full text (the public sees the cited passages), monuments with
their derived condition. Rows are read as tuples with `.iterator(chunk_size=…)` and written a chunk
at a time, so memory does not grow with the number of rows. CSV cells go through the same formula escaping as
every other export (archive.importexport.csvfile).
"""

import json
import re
from decimal import Decimal

from django.db.models import Count, Q
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from ..filters import IncidentFilter
from ..importexport.csvfile import csv_lines
from ..importexport.tables import format_value
from ..models import Citation, Incident, Monument, Source, Stance

# Rows per database chunk and per piece of the response (a few hundred kB).
CHUNK_SIZE = 2000

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
    rows = (
        filterset.qs.order_by(f"{direction}occurred_from", f"{direction}slug")
        .values_list(*INCIDENT_FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    records = _incident_records(request, rows, fmt=fmt)
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
    rows = (
        # The received text is evidence the public does not get whole (copyright): never selected.
        Source.objects.public()
        .order_by("-published_on", "slug")
        .values_list(*SOURCE_FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    records = _source_records(request, rows, fmt=fmt)
    if fmt == "csv":
        return _csv_response("sources", SOURCE_COLUMNS, records)
    return _json_response("sources", records)


# Rows are read as tuples, CHUNK_SIZE at a time; what each chunk needs from other tables (monuments,
# citation counts, cited passages) is fetched with one query per chunk keyed by its ids, instead of
# a correlated subquery per row. Each chunk is written as one piece of the response.

INCIDENT_FIELDS = (
    "pk", "slug", "title", "kind", "site__slug", "perpetrator__slug", "victims", "occurred_from", "occurred_to",
    "date_precision", "date_wording", "assessment", "description", "site__latitude", "site__longitude",
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


def _url_maker(request, name):
    """slug → absolute URL of its public page, without a reverse() per row for ordinary slugs."""
    head, _, tail = request.build_absolute_uri(reverse(f"archive:{name}", kwargs={"slug": "SLUG"})).rpartition("SLUG")

    def url(slug):
        if _PLAIN_SLUG(slug):
            return f"{head}{slug}{tail}"
        return request.build_absolute_uri(reverse(f"archive:{name}", kwargs={"slug": slug}))

    return url


_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+").fullmatch


def _incident_records(request, rows, *, fmt):
    """Batches of the incident rows, in their order: lists of CSV cells, or (record, geometry)."""
    passages = fmt != "csv"
    url = _url_maker(request, "incident-detail")
    # Public monuments are few (they are places, not events): looked up once per download.
    monuments = {
        pk: (slug, _point(latitude, longitude))
        for pk, slug, latitude, longitude in Monument.objects.public().values_list(
            "pk", "slug", "latitude", "longitude"
        )
    }
    through = Incident.monuments.through.objects
    for batch in _batches(rows):
        ids = [row[0] for row in batch]
        counts = {
            incident: (n, origins)
            for incident, n, origins in Citation.objects.public()
            .filter(incident_id__in=ids)
            .order_by()
            .values("incident_id")
            .annotate(n=Count("pk"), origins=Count("source__origin", distinct=True, filter=Q(stance=Stance.SUPPORTS)))
            .values_list("incident_id", "n", "origins")
        }
        monuments_of = {}
        for incident, monument in through.filter(incident_id__in=ids).values_list("incident_id", "monument_id"):
            if monument in monuments:
                monuments_of.setdefault(incident, []).append(monuments[monument])
        passages_of = {}
        if passages:
            cited = (
                Citation.objects.public()
                .filter(incident_id__in=ids)
                .order_by("incident_id", "source__published_on", "position_start", "pk")
                .values_list(
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
            for incident, source, quote, start, end, claimant, evidence_kind, stance in cited:
                passages_of.setdefault(incident, []).append(
                    {
                        "source": source,
                        "quote": quote,
                        "position_start": start,
                        "position_end": end,
                        "claimant": claimant,
                        "evidence_kind": evidence_kind,
                        "stance": stance,
                    }
                )
        records = []
        for (
            pk, slug, title, kind, site, perpetrator, victims, occurred_from, occurred_to, date_precision,
            date_wording, assessment, description, site_latitude, site_longitude,
        ) in batch:  # fmt: skip
            places = sorted(monuments_of.get(pk, ()))
            n, origins = counts.get(pk, (0, 0))
            if not passages:
                records.append(
                    [
                        slug, title, kind, site, ";".join([monument for monument, _point in places]), perpetrator,
                        victims, occurred_from.isoformat(), occurred_to.isoformat(), date_precision, date_wording,
                        assessment, description, str(n), str(origins), url(slug),
                    ]
                )  # fmt: skip
                continue
            record = {
                "slug": slug,
                "title": title,
                "kind": kind,
                "site": site,
                "monuments": [monument for monument, _point in places],
                "perpetrator": perpetrator,
                "victims": victims,
                "occurred_from": occurred_from.isoformat(),
                "occurred_to": occurred_to.isoformat(),
                "date_precision": date_precision,
                "date_wording": date_wording,
                "assessment": assessment,
                "description": description,
                "citations": n,
                "independent_origins": origins,
                "url": url(slug),
            }
            record["cited_passages"] = passages_of.get(pk, [])
            # For GeoJSON: where the incident happened, from its monuments or else its site.
            geometry = _geometry([point for _slug, point in places] or [_point(site_latitude, site_longitude)])
            records.append((record, geometry))
        yield records


def _source_records(request, rows, *, fmt):
    """Batches of the source rows with the number of published incidents citing each: lists of CSV
    cells, or (record, None) with their cited passages."""
    passages = fmt == "json"
    url = _url_maker(request, "source-detail")
    for batch in _batches(rows):
        ids = [row[0] for row in batch]
        citing = Citation.objects.public().filter(source_id__in=ids).order_by()
        passages_of = {}
        if passages:
            incidents_of = {}
            cited = citing.order_by("source_id", "position_start", "pk").values_list(
                "source_id", "incident_id", "incident__slug", "quote", "position_start", "position_end"
            )
            for source, incident, incident_slug, quote, start, end in cited:
                incidents_of.setdefault(source, set()).add(incident)
                passages_of.setdefault(source, []).append(
                    {"incident": incident_slug, "quote": quote, "position_start": start, "position_end": end}
                )
            counts = {source: len(incidents) for source, incidents in incidents_of.items()}
        else:
            counts = dict(
                citing.values("source_id").annotate(n=Count("incident_id", distinct=True)).values_list("source_id", "n")
            )
        records = []
        for pk, slug, title, publisher, origin, byline, source_url, published_on, precision, language, sha in batch:
            if not passages:
                published = published_on.isoformat() if published_on else ""
                records.append(
                    [
                        slug, title, publisher, origin, byline, source_url, published, precision, language, sha,
                        str(counts.get(pk, 0)), url(slug),
                    ]
                )  # fmt: skip
                continue
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
                "incidents": counts.get(pk, 0),
                "url": url(slug),
            }
            record["cited_passages"] = passages_of.get(pk, [])
            records.append((record, None))
        yield records


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


def _csv_lines(columns, batches):
    rows = (cells for batch in batches for cells in batch)
    piece = []
    for line in csv_lines(columns, rows):
        piece.append(line)
        if len(piece) == CHUNK_SIZE:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


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
                f'{{"type": "Feature", "geometry": {_dumps(geometry)}, "properties": {_dumps(record)}}}'
                for record, geometry in batch
            )
            yield separator + ",\n".join(features)
            separator = ",\n"
    yield "\n]}\n"


def _geojson_response(name, batches):
    response = StreamingHttpResponse(_geojson_lines(batches), content_type="application/geo+json; charset=utf-8")
    return _attachment(response, f"{name}.geojson")
