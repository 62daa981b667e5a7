"""The archive's rules for each table, applied in bulk while the engine plans an import.

Each `check_<table>` runs per row after the row's values are set on its instance; `prepare_<table>`
fetches, once per chunk of rows, what the checks need; `begin_<table>` and `finish_<table>` hold
the rules across the whole file (the same text twice). Citations and images have builders of their
own (a citation's key is known only once its quote is anchored; a figure is keyed by its
citation's key, its measure and its low number; an image is keyed by its file). A reference that
may point further down its own file (a site's parent, the citation a citation contradicts) is
checked in `finish_<table>`, once the whole file is planned.
They mirror the models' `clean()` rules without their per-row queries, and word them with the
model layer's messages (archive.models: NEEDS_REASON, CITED_TEXT_IS_EVIDENCE; a published
incident's citation and actor are checked once, after writing, with `Incident.objects.uncited()`
and NEEDS_ACTOR). An incident's bounds come from `Incident.set_bounds()` and its message.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..boilerplate import reading_text
from ..dates import edtf_of_bounds
from ..duplicates import url_key
from ..images import check_stored_image, needs_cleaning
from ..models import Citation, Figure, Image, Incident, IncidentActor, Site, Source, Stance, Status
from ..models.identifiers import format_identifier
from ..models.incidents import (
    CHOOSE_CONTRADICTED,
    NEEDS_REASON,
    NOT_ITSELF,
    ONLY_CONTRADICTING,
    OVERRIDE_NEEDS_REASON,
    PUBLISH_PERMISSION,
    RANGE_ORDERED,
)
from ..models.sources import (
    CITED_TEXT_IS_EVIDENCE,
    DUPLICATE_TEXT,
    DUPLICATE_URL,
    Resemblance,
    duplicate_error,
    sha256_of,
)
from ..quotes import QuoteNotFound
from ..texts import normalise_received_text
from .tables import TABLES_BY_KEY, Reference, format_citation_key

# A source's texts, never read to plan a citation.
TEXT_FIELDS = ("received_text", "reading_text")
# Natural keys looked up per query; under every database's parameter limit.
LOOKUP_CHUNK = 500
# What an import does with a row (the engine's report and the admin's preview).
NEW, UPDATE, UNCHANGED = "new", "update", "unchanged"
# Distinct EDTF values whose bounds are kept while planning (parsing one costs milliseconds).
BOUNDS_CACHE = 100_000


def chunks(items: list, size: int = LOOKUP_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class TableRules:
    """Mixed into the engine's import: uses its `problem`, `lookup`, `fetch`, `apply` and `settle`."""

    def _located(self, plan, line, obj, values) -> None:
        header = plan.csv.header
        if any(name in header and name not in values for name in ("latitude", "longitude")):
            return  # already reported: the cell is not a coordinate
        if (obj.latitude is None) != (obj.longitude is None):
            missing = "latitude" if obj.latitude is None else "longitude"
            self.problem(plan, line, missing, "give both latitude and longitude, or neither.")

    def begin_sites(self, plan) -> None:
        plan.new_keys = []  # a site's parent may be further down the file: pks reserved first
        self.site_parents: dict[str, tuple[int, str]] = {}  # slug -> (line, parent slug)

    def check_sites(self, plan, line, obj, values, changed, original):
        self._located(plan, line, obj, values)
        if "parent" in values:
            parent = values["parent"]
        else:
            parent = obj.parent.slug if obj.parent_id is not None else None
        if parent is not None and parent == obj.slug:
            self.problem(plan, line, "parent", "a site cannot be its own parent.")
        elif parent is not None:
            self.site_parents[obj.slug] = (line, parent)

    def finish_sites(self, plan) -> None:
        """Parents further down the file exist; no site lies within itself."""
        for line, column, slug in plan.forward:
            if slug not in plan.seen:
                self.problem(plan, line, column, f"no site with slug “{slug}” in the archive or in sites.csv.")
        if not self.site_parents:
            return
        parents = {
            slug: parent
            for slug, parent in Site.objects.filter(parent__isnull=False).values_list("slug", "parent__slug")
            if slug not in plan.seen
        }
        parents.update((slug, parent) for slug, (_line, parent) in self.site_parents.items())
        reported: set[str] = set()
        for slug, (line, _parent) in sorted(self.site_parents.items(), key=lambda item: item[1][0]):
            path = [slug]
            while path[-1] in parents and parents[path[-1]] not in path:
                path.append(parents[path[-1]])
            if path[-1] in parents and parents[path[-1]] == slug and not reported & set(path):
                reported.update(path)
                chain = " → ".join([*path, slug])
                self.problem(plan, line, "parent", f"“{slug}” would lie within itself ({chain}).")

    def check_monuments(self, plan, line, obj, values, changed, original):
        self._located(plan, line, obj, values)

    def begin_sources(self, plan) -> None:
        self.seen_hashes: dict[str, tuple[int, str]] = {}
        self.seen_urls: dict[str, tuple[int, str]] = {}
        # (line, column, message, slug of the stored source with that text or URL)
        self.twins: list[tuple[int, str, str, str]] = []
        self.sketch_slugs: list[str] = []  # sources whose sketch is written after the rows

    def prepare_sources(self, plan, rows, existing) -> None:
        for _line, values in rows:
            # archive.texts' rule, as Source.save() applies it: a text that comes in is normalised
            # (so an export re-saved with CRLF line endings is the same text), a stored one never.
            text = values.get("received_text")
            stored = existing.get(values.get("slug"))
            if text and (stored is None or stored.received_text != text):
                values["received_text"] = normalise_received_text(text)
        texts = {sha256_of(values["received_text"]) for _line, values in rows if values.get("received_text")}
        self.stored_hashes = self.fetch(Source, "sha256", texts)
        self.stored_urls = self.fetch(
            Source, "url_key", {url_key(values.get("url") or "") for _l, values in rows} - {""}
        )
        changed_text = [
            existing[values["slug"]].pk
            for _line, values in rows
            if values.get("slug") in existing
            and "received_text" in values
            and existing[values["slug"]].received_text != values["received_text"]
        ]
        self.cited_sources = set()
        for chunk in chunks(changed_text):
            self.cited_sources.update(Source.objects.filter(pk__in=chunk).cited().values_list("pk", flat=True))
        # New texts that look like stored sources: flagged and recorded, not refused (one bulk lookup).
        incoming = {}
        for line, values in rows:
            text, stored = values.get("received_text"), existing.get(values.get("slug"))
            if text and (stored is None or stored.received_text != text):
                publisher = values.get("publisher", stored.publisher if stored is not None else "")
                incoming[line] = (reading_text(text), publisher or "", stored.pk if stored is not None else None)
        self.resemblances = Source.objects.resembling(incoming) if incoming else {}
        self.reading_texts = {line: reading for line, (reading, _publisher, _pk) in incoming.items()}

    def finish_sources(self, plan) -> None:
        # A stored twin is no clash when this file gives that source another text or URL: known at the end.
        for line, column, message, slug in self.twins:
            if slug not in plan.seen:
                self.problem(plan, line, column, f"{message} Use that slug.")

    def _twin(self, line, column, template, twin):
        message = "; ".join(duplicate_error(template, twin).messages)
        self.twins.append((line, column, message, twin.slug))

    def check_sources(self, plan, line, obj, values, changed, original):
        if obj.pk is None or "url" in changed:
            obj.url_key = url_key(obj.url)
            changed.append("url_key")
        if obj.url_key and "url" in values:
            twin = self.stored_urls.get(obj.url_key)
            if twin is not None and twin.slug != obj.slug:
                self._twin(line, "url", DUPLICATE_URL, twin)
            if obj.url_key in self.seen_urls:
                other_line, other_slug = self.seen_urls[obj.url_key]
                self.problem(plan, line, "url", f"the same URL as line {other_line} (“{other_slug}”).")
            self.seen_urls.setdefault(obj.url_key, (line, obj.slug))
        if "received_text" not in values:
            return
        digest = sha256_of(obj.received_text)
        given = values.get("sha256")
        if given and given != digest:
            self.problem(
                plan,
                line,
                "sha256",
                "does not match the received text: the text was altered or the checksum belongs to another text.",
            )
        if "received_text" in changed and obj.pk is not None and obj.pk in self.cited_sources:
            self.problem(plan, line, "received_text", f"“{obj.slug}”: {CITED_TEXT_IS_EVIDENCE}")
        twin = self.stored_hashes.get(digest)
        if twin is not None and twin.slug != obj.slug:
            self._twin(line, "received_text", DUPLICATE_TEXT, twin)
        if digest in self.seen_hashes:
            other_line, other_slug = self.seen_hashes[digest]
            self.problem(plan, line, "received_text", f"the same text as line {other_line} (“{other_slug}”).")
        self.seen_hashes[digest] = (line, obj.slug)
        if obj.pk is None or "received_text" in changed:
            obj.sha256 = digest
            obj.reading_text = self.reading_texts.get(line) or reading_text(obj.received_text)
            changed.extend(["sha256", "reading_text"])
            findings = [f for f in self.resemblances.get(line, ()) if f.source.sha256 != digest]
            first = findings[0] if findings else None
            obj.resembles_id = first.source.pk if first else None
            obj.resemblance = first.kind if first else ""
            changed.extend(["resembles_id", "resemblance"])
            if first is not None:
                label = Resemblance(first.kind).label.lower()
                self.warning(plan, line, "received_text", f"{first.message} Imported, flagged as {label}.")
            self.sketch_slugs.append(obj.slug)
        if "sources" in self.referred:  # citations of this import may name it by its text's SHA-256
            self.imported_digests[digest] = obj.slug
        if self.texts is not None:
            self.texts.put(obj.slug, obj.received_text)

    def store_sketches(self) -> None:
        """After writing: the sketches of the sources this import added or gave a new text."""
        for chunk in chunks(getattr(self, "sketch_slugs", [])):
            Source.objects.filter(slug__in=chunk).store_sketches()

    def begin_incidents(self, plan) -> None:
        self.identifiers_in_file: dict[tuple[str, int], tuple[int, str]] = {}

    def finish_incidents(self, plan) -> None:
        # The numbers the archive gives the file's other new incidents start above these.
        self.highest_identifiers: dict[str, int] = {}
        for prefix, number in self.identifiers_in_file:
            self.highest_identifiers[prefix] = max(number, self.highest_identifiers.get(prefix, 0))

    def prepare_incidents(self, plan, rows, existing) -> None:
        # The stored incidents holding the identifiers this chunk gives (one query per prefix).
        wanted: dict[str, set[int]] = {}
        for _line, values in rows:
            if values.get("identifier"):
                prefix, number = values["identifier"]
                wanted.setdefault(prefix, set()).add(number)
        self.stored_identifiers: dict[tuple[str, int], str] = {}
        for prefix, numbers in wanted.items():
            for chunk in chunks(sorted(numbers)):
                self.stored_identifiers.update(
                    ((prefix, number), slug)
                    for number, slug in Incident._base_manager.filter(
                        identifier_prefix=prefix, identifier_number__in=chunk
                    ).values_list("identifier_number", "slug")
                )
        self.stored_monuments: dict[int, set[int]] | None = {}
        self.stored_monument_slugs: dict[int, list[str]] = {}
        if "monuments" not in plan.csv.header and not self.keep_rows:
            self.stored_monuments = None
            return
        Through = Incident.monuments.through
        ids = sorted(obj.pk for obj in existing.values())
        for chunk in chunks(ids):
            for incident_id, monument_id, slug in Through.objects.filter(incident_id__in=chunk).values_list(
                "incident_id", "monument_id", "monument__slug"
            ):
                self.stored_monuments.setdefault(incident_id, set()).add(monument_id)
                self.stored_monument_slugs.setdefault(incident_id, []).append(slug)
        if "monuments" not in plan.csv.header:
            self.stored_monuments = None

    def convert_incidents(self, plan, line, values) -> None:
        """A format-v2 row: its dates (occurred_from, occurred_to, date_precision) become the EDTF
        value `occurred`, as migration 0007 carried them over (archive.dates.edtf_of_bounds). Its
        perpetrator is kept in `values` for check_incidents."""
        header = plan.csv.header
        if "occurred_from" not in header:
            return
        start, end = values.pop("occurred_from", None), values.pop("occurred_to", None)
        precision = values.pop("date_precision", None)
        if start is None or (end is None and "occurred_to" in header) or "date_precision" in header and not precision:
            return  # a cell already reported
        values["occurred"] = edtf_of_bounds(start, end or start, precision or "day")
        values["v2 dates"] = (start, end or start)

    def bounds_of(self, value: str) -> tuple:
        """(EDTF value, earliest, latest, problem): the model's Incident.set_bounds, run once per
        distinct value (parsing EDTF costs milliseconds; an archive repeats its dates)."""
        found = self.bounds.get(value)
        if found is None:
            probe = Incident(occurred=value)
            try:
                probe.set_bounds()
                found = (probe.occurred, probe.occurred_from, probe.occurred_to, None)
            except ValidationError as error:
                found = (None, None, None, " ".join(error.message_dict["occurred"]))
            if len(self.bounds) < BOUNDS_CACHE:
                self.bounds[value] = found
        return found

    def set_bounds(self, plan, line, obj, values, changed) -> None:
        """The derived bounds of the incident's `occurred` (never read from the file)."""
        occurred, earliest, latest, problem = self.bounds_of(obj.occurred)
        if problem is not None:
            if "v2 dates" in values:
                start, end = values["v2 dates"]
                self.problem(plan, line, "occurred_to", f"from {start} to {end} (format v2): {problem}")
            else:
                self.problem(plan, line, "occurred", problem)
            return
        for name, value in (("occurred", occurred), ("occurred_from", earliest), ("occurred_to", latest)):
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                if obj.pk is not None and name not in changed:
                    changed.append(name)

    def check_identifier(self, plan, line, obj, values) -> None:
        """A new incident keeps the identifier the file gives it, unless another incident holds
        it; a stored incident's identifier never changes (an empty cell keeps it)."""
        given = values.get("identifier")
        if given is None:
            return
        text = format_identifier(*given)
        if obj.pk is not None:
            if (obj.identifier_prefix, obj.identifier_number) != given:
                self.problem(
                    plan, line, "identifier",
                    f"“{text}”: the incident “{obj.slug}” is {obj.identifier}; an identifier never changes "
                    "(leave the cell empty, or write the stored one).",
                )  # fmt: skip
            return
        holder = self.stored_identifiers.get(given)
        earlier = self.identifiers_in_file.get(given)
        if holder is not None and holder != obj.slug:
            self.problem(plan, line, "identifier", f"“{text}” is the identifier of the stored incident “{holder}”.")
        elif earlier is not None:
            message = f"“{text}” is already the identifier of “{earlier[1]}” on line {earlier[0]}."
            self.problem(plan, line, "identifier", message)
        else:
            self.identifiers_in_file[given] = (line, obj.slug)
            obj.identifier_prefix, obj.identifier_number = given

    def check_incidents(self, plan, line, obj, values, changed, original):
        self.set_bounds(plan, line, obj, values, changed)
        self.check_identifier(plan, line, obj, values)
        if values.get("perpetrator") is not None and self.legacy_actors is not None:
            self.legacy_actors.add(line, obj.slug, values["perpetrator"])
        if obj.status == Status.WITHDRAWN and not (obj.withdrawn_reason or "").strip():
            self.problem(plan, line, "withdrawn_reason", NEEDS_REASON)
        if obj.assessment_override and not (obj.override_reason or "").strip():
            self.problem(plan, line, "override_reason", OVERRIDE_NEEDS_REASON)
        if obj.pk is None:
            # Derived from no citations, as a save would: any this import writes for it, and any
            # change to a stored incident, are derived again once written (refresh_assessments).
            obj.assessment, obj.assessment_reason = obj.derive_assessment([], has_monuments=False)
        if not self.can_publish:
            if obj.status != Status.DRAFT:
                self.problem(
                    plan,
                    line,
                    "status",
                    f"“{obj.status}”: only editors (permission {PUBLISH_PERMISSION}) may import a published "
                    "or withdrawn incident; import it as draft.",
                )
            elif original is not None and original["status"] != Status.DRAFT:
                self.problem(
                    plan,
                    line,
                    "status",
                    f"the incident “{obj.slug}” is {original['status']}; only editors "
                    f"(permission {PUBLISH_PERMISSION}) may change it.",
                )
        if "status" in changed and self.user is not None:
            if obj.status == Status.PUBLISHED:
                obj.published_by = self.user
                changed.append("published_by")
            elif obj.status == Status.WITHDRAWN:
                obj.withdrawn_by = self.user
                changed.append("withdrawn_by")
        if obj.status == Status.PUBLISHED:
            plan.published[obj.slug] = line
        if obj.pk is not None and changed:
            obj.updated_at = timezone.now()
            changed.append("updated_at")
        if self.stored_monuments is None or "monuments" not in values:
            return False
        monuments = []
        for slug in values["monuments"]:
            monument = self.lookup(plan, line, TABLES_BY_KEY["incidents"].by_name["monuments"], slug)
            if monument is not None:
                monuments.append(monument)
        stored = self.stored_monuments.get(obj.pk, set()) if obj.pk is not None else set()
        wanted = {monument.pk for monument in monuments}
        if obj.pk is None or None in wanted or wanted != stored:
            plan.monuments[id(obj)] = monuments
            if obj.pk is not None:
                obj.updated_at = timezone.now()
                changed.append("updated_at")
                return True
        return False

    def stored_incident_ids(self, rows) -> set[int]:
        """The ids of the stored incidents `rows` refer to (found in the archive or written earlier in this import)."""
        incident_ids = set()
        for _line, values in rows:
            key = values.get("incident")
            stored = self.imported["incidents"].get(key) or getattr(self.objects["incidents"].get(key), "pk", None)
            if stored is not None:
                incident_ids.add(stored)
        return incident_ids

    def build_incident_actors(self, plan, columns, rows) -> None:
        """An incident's actors, each with a role, keyed by (incident, actor, role). A row adds the
        actor in that role after those the incident has, in the file's order; a row already stored
        is unchanged; none is removed (the admin removes an actor)."""
        self.prefetch_references(columns, rows)
        table = plan.table
        incident_column, actor_column = table.by_name["incident"], table.by_name["actor"]
        incident_ids = self.stored_incident_ids(rows)
        existing = set()
        for chunk in chunks(sorted(incident_ids)):
            existing.update(
                IncidentActor.objects.filter(incident_id__in=chunk).values_list("incident_id", "actor_id", "role")
            )
        seen = plan.seen
        for line, values in rows:
            incident = self.lookup(plan, line, incident_column, values.get("incident"))
            actor = self.lookup(plan, line, actor_column, values.get("actor"))
            role = values.get("role")
            if incident is None or actor is None or role is None:
                continue  # already reported
            key = (incident.slug, actor.slug, role)
            if key in seen:
                message = f"“{actor.slug}” is already {role} of “{incident.slug}” on line {seen[key]}."
                self.problem(plan, line, "role", message)
                continue
            seen[key] = line
            obj = IncidentActor(incident=incident, actor=actor, role=role)
            if incident.pk is not None and actor.pk is not None and (incident.pk, actor.pk, role) in existing:
                self.outcome(plan, line, obj, UNCHANGED)
                continue
            if not self.can_publish and incident.status != Status.DRAFT:
                # As in the admin: for a curator, a published incident's actors are read-only.
                self.problem(
                    plan,
                    line,
                    "incident",
                    f"the incident “{incident.slug}” is {incident.status}; only editors (permission "
                    f"{PUBLISH_PERMISSION}) may change its actors.",
                )
                continue
            self.settle(plan, line, obj, [], None, key=key)

    def imported_texts(self, rows) -> dict[str, str]:
        """The received texts of this import's sources that the rows cite, by slug."""
        slugs = set()
        for _line, values in rows:
            key = values.get("source")
            slug = self.imported_digests.get(key, key)
            if slug in self.imported["sources"]:
                slugs.add(slug)
        texts = self.texts.get(slugs) if self.texts is not None else {}
        stored = slugs - set(texts)  # in sources.csv without a received_text column
        for chunk in chunks(sorted(stored)):
            texts.update(Source.objects.filter(slug__in=chunk).values_list("slug", "received_text"))
        return texts

    def begin_citations(self, plan) -> None:
        figures = self.files.get("figures")
        if "contradicts" in plan.csv.header or (figures is not None and figures.count != 0):
            plan.new_keys = []  # referred to by key before they are written: pks reserved first
            self.keyed_citations = True
        else:
            self.keyed_citations = False

    def finish_citations(self, plan) -> None:
        for line, column, key in plan.forward:
            if key not in plan.seen:
                self.problem(
                    plan, line, column, f"no citation “{format_citation_key(key)}” in the archive or in citations.csv."
                )

    def stored_citations(self, keys) -> dict[tuple, Citation]:
        """The stored citations that natural keys (incident slug, source slug, position_start) name."""
        wanted = sorted(set(keys))
        found = {}
        for chunk in chunks(wanted):
            for citation in (
                Citation.objects.filter(
                    incident__slug__in={key[0] for key in chunk},
                    source__slug__in={key[1] for key in chunk},
                    position_start__in={key[2] for key in chunk},
                )
                .select_related("incident", "source")
                .only("pk", "position_start", "incident__slug", "incident__status", "source__slug")
            ):
                found[(citation.incident.slug, citation.source.slug, citation.position_start)] = citation
        return {key: found[key] for key in wanted if key in found}

    def citation_stand_in(self, key):
        """A citation of this import not yet written: the write phase gives it its pk."""
        stand_in = Citation()
        stand_in.import_key = key
        return stand_in

    def set_contradicts(self, plan, line, obj, key, values, changed, stored_targets) -> None:
        """The citation this one contradicts: earlier in the file, in the archive, or further down
        the file (checked at the end); and the model's rules for a contradiction."""
        imported = self.imported["citations"]
        pending = False
        if "contradicts" in values:
            target = values["contradicts"]
            if target is None:
                pk = None
            elif target == key:
                self.problem(plan, line, "contradicts", NOT_ITSELF)
                return
            elif target in imported and imported[target] is not None:
                pk = imported[target]
            elif target in stored_targets:
                pk = stored_targets[target].pk
            else:
                if target not in imported:
                    plan.forward.append((line, "contradicts", target))
                obj.contradicts = self.citation_stand_in(target)
                changed.append("contradicts_id")
                pk, pending = None, True
            if not pending and (obj.pk is None or obj.contradicts_id != pk):
                obj.contradicts_id = pk
                changed.append("contradicts_id")
        named = pending or obj.contradicts_id is not None
        if obj.stance == Stance.CONTRADICTS and not named:
            self.problem(plan, line, "contradicts", CHOOSE_CONTRADICTED)
        elif obj.stance != Stance.CONTRADICTS and named:
            self.problem(plan, line, "contradicts", ONLY_CONTRADICTING)

    def build_citations(self, plan, columns, rows) -> None:
        self.prefetch_references(columns, rows)
        imported_citations = self.imported["citations"]
        stored_targets = self.stored_citations(
            values["contradicts"]
            for _line, values in rows
            if values.get("contradicts") and values["contradicts"] not in imported_citations
        )
        incident_column = TABLES_BY_KEY["citations"].by_name["incident"]
        source_column = TABLES_BY_KEY["citations"].by_name["source"]
        incident_ids = self.stored_incident_ids(rows)
        incident_ids = sorted(incident_ids)
        existing: dict[tuple, Citation] = {}
        stored = Citation.objects.select_related(
            "incident", "source", "contradicts__incident", "contradicts__source"
        ).defer(*(f"{prefix}source__{text}" for prefix in ("", "contradicts__") for text in TEXT_FIELDS))
        for chunk in chunks(incident_ids):
            for citation in stored.filter(incident_id__in=chunk):
                existing[(citation.incident_id, citation.source_id, citation.position_start)] = citation
        texts = self.imported_texts(rows)
        seen = plan.seen
        for line, values in rows:
            incident = self.lookup(plan, line, incident_column, values.get("incident"))
            source = self.lookup(plan, line, source_column, values.get("source"))
            if incident is None or source is None or "quote" not in values:
                continue
            if source.slug in texts:  # a source of this import: a stand-in, given its text
                source.received_text = texts[source.slug]
            probe = Citation(
                incident=incident,
                source=source,
                quote=values["quote"],
                position_start=values.get("position_start"),
                position_end=values.get("position_end"),
            )
            try:
                probe.anchor()
            except QuoteNotFound as error:
                self.problem(plan, line, "quote", _quote_not_found(source, error))
                continue
            key = (incident.slug, source.slug, probe.position_start)
            if key in seen:
                self.problem(
                    plan,
                    line,
                    "quote",
                    f"the same passage of “{source.slug}” is already cited for “{incident.slug}” on line {seen[key]}.",
                )
                continue
            seen[key] = line
            obj = existing.get((incident.pk, source.pk, probe.position_start)) if incident.pk and source.pk else None
            before = self.snapshot(plan, obj) if obj is not None else None
            if obj is None:
                obj = probe
            anchored = {
                "quote": probe.quote,
                "prefix": probe.prefix,
                "suffix": probe.suffix,
                "position_start": probe.position_start,
                "position_end": probe.position_end,
            }
            changed = self.apply(
                plan, line, obj, columns, values, skip=("incident", "source", "quote", "position_start", "position_end")
            )
            for name, value in anchored.items():
                if obj.pk is None or getattr(obj, name) != value:
                    setattr(obj, name, value)
                    changed.append(name)
            self.set_contradicts(plan, line, obj, key, values, changed, stored_targets)
            if self.keyed_citations:
                imported_citations[key] = obj.pk
            if not self.can_publish and incident.status != Status.DRAFT and (obj.pk is None or changed):
                # Review before publication: a curator's change to a published incident's
                # citations is proposed on the incident's page, never written by an import.
                self.problem(
                    plan,
                    line,
                    "incident",
                    f"the incident “{incident.slug}” is {incident.status}; a curator's change to its citations "
                    "waits for an editor's review: propose it on the incident's page.",
                )
                continue
            self.settle(plan, line, obj, changed, before, key=key)

    def build_figures(self, plan, columns, rows) -> None:
        """Figures, keyed by their citation's key, their measure and their low number."""
        imported = self.imported["citations"]
        keys = {values["citation"] for _line, values in rows if values.get("citation")}
        stored = self.stored_citations(key for key in keys if key not in imported)
        self.resolve("incidents", {key[0] for key in keys})
        citation_ids = sorted({imported[key] for key in keys if imported.get(key)} | {c.pk for c in stored.values()})
        existing: dict[tuple, Figure] = {}
        figures = Figure.objects.select_related("citation__incident", "citation__source").defer(
            *(f"citation__source__{text}" for text in TEXT_FIELDS)
        )
        for chunk in chunks(citation_ids):
            for figure in figures.filter(citation_id__in=chunk).order_by("pk"):
                existing.setdefault((figure.citation_id, figure.measure, figure.low), figure)
        column = TABLES_BY_KEY["figures"].by_name["citation"]
        seen = plan.seen
        for line, values in rows:
            citation, measure, low = values.get("citation"), values.get("measure"), values.get("low")
            if citation is None or measure is None or low is None:
                continue  # already reported
            key = (citation, measure, low)
            if key in seen:
                message = f"the same figure ({measure}, {low}) of this citation is on line {seen[key]}."
                self.problem(plan, line, "low", message)
                continue
            seen[key] = line
            if citation in imported:
                pk = imported[citation]
            elif citation in stored:
                pk = stored[citation].pk
            else:
                self.problem(
                    plan,
                    line,
                    column.name,
                    f"no citation “{format_citation_key(citation)}” in the archive or in citations.csv.",
                )
                continue
            obj = existing.get((pk, measure, low)) if pk is not None else None
            if obj is None:
                before = None
                obj, changed = self.create(plan, line, Figure, columns, values, skip=("citation",))
                if pk is None:
                    obj.citation = self.citation_stand_in(citation)
                else:
                    obj.citation_id = pk
            else:
                before = self.snapshot(plan, obj)
                changed = self.apply(plan, line, obj, columns, values, skip=("citation",))
            if obj.high is not None and obj.high < obj.low:
                self.problem(plan, line, "high", RANGE_ORDERED)
            incident = citation[0]
            status = Status.DRAFT if incident in self.imported["incidents"] else None
            if status is None:
                stored_incident = self.objects["incidents"].get(incident)
                status = stored_incident.status if stored_incident is not None else Status.DRAFT
            if not self.can_publish and status != Status.DRAFT and (obj.pk is None or changed):
                self.problem(
                    plan,
                    line,
                    column.name,
                    f"the incident “{incident}” is {status}; a curator's change to its figures waits for an "
                    "editor's review: propose it on the incident's page.",
                )
                continue
            self.settle(plan, line, obj, changed, before)

    def build_images(self, plan, columns, rows) -> None:
        self.prefetch_references(columns, rows)
        files = [values["file"] for _line, values in rows if values.get("file")]
        existing = self.fetch(Image, "file", files, select_related=["monument", "incident"])
        seen: dict[str, int] = {}
        table = plan.table
        for line, values in rows:
            path = values.get("file")
            if path is None:
                continue
            if path in seen:
                self.problem(plan, line, "file", f"“{path}” is already on line {seen[path]}.")
                continue
            seen[path] = line
            stored = existing.get(path)
            before = self.snapshot(plan, stored) if stored is not None else None
            fields = {}
            for column in columns:
                name = column.name
                if name == "file" or name not in values:
                    continue
                if isinstance(column, Reference):
                    fields[column.field.name] = self.lookup(plan, line, column, values[name])
                else:
                    fields[column.attname] = values[name]
            if stored is not None:
                # Unspecified columns keep their stored values.
                for column in table.columns:
                    if column.name != "file" and column.name not in values and column.name not in plan.csv.header:
                        fields.setdefault(column.attname, getattr(stored, column.attname))
                fields.update(
                    pk=stored.pk,
                    created_at=stored.created_at,
                    thumbnail=stored.thumbnail,
                    file_sha256=stored.file_sha256,
                    thumbnail_sha256=stored.thumbnail_sha256,
                )
            if (fields.get("monument") is None and fields.get("monument_id") is None) == (
                fields.get("incident") is None and fields.get("incident_id") is None
            ):
                self.problem(
                    plan, line, "monument", "an image shows either a monument or an incident: give exactly one."
                )
                continue
            try:
                # ImageField reads the file for its size when width and height are not given.
                obj = Image(file=path, **fields)
            except (OSError, ValueError):
                self.problem(
                    plan, line, "file", f"“{path}” is not in the media folder, so width and height must be given."
                )
                continue
            # The same checks as an upload in the admin; the file itself is cleaned (metadata
            # stripped) when Image.objects.bulk_create or bulk_update writes the row.
            unclean = needs_cleaning(obj)
            if unclean:
                try:
                    check_stored_image(obj.file.storage, path)
                except ValidationError as error:
                    self.problem(plan, line, "file", error.messages[0])
                    continue
            if stored is None:
                self.settle(plan, line, obj, [], None)
                continue
            obj._state.adding = False
            obj._state.db = stored._state.db
            changed = [
                column.attname
                for column in table.columns
                if column.value_of(obj) != column.value_of(stored) and not isinstance(column, Reference)
            ] + [
                column.attname
                for column in table.columns
                if isinstance(column, Reference) and getattr(obj, column.attname) != getattr(stored, column.attname)
            ]
            if unclean and "file" not in changed:
                changed.append("file")  # replaced on disk since it was stored: clean it again
            self.settle(plan, line, obj, changed, before)


def _quote_not_found(source, error: QuoteNotFound) -> str:
    closest = error.closest
    if not error.quote.strip():
        return "the quote is empty."
    if closest is None:
        return f"not found in source “{source.slug}”, and nothing in it comes close."
    differences = "; ".join(closest.differences[:3])
    return (
        f"not found in source “{source.slug}”. Closest passage (characters {closest.start}–{closest.end}, "
        f"{closest.score:.0f}% alike): “{closest.text}”" + (f". Differences: {differences}." if differences else ".")
    )
