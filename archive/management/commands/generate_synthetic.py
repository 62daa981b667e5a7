"""Build (or remove) a synthetic archive of N incidents, for benchmarks of the public pages.

    python manage.py generate_synthetic --incidents 100000
    python manage.py generate_synthetic --clear

Everything it makes is marked: incidents have `is_synthetic=True`, and the site, monuments,
actors and sources it creates have slugs starting with `synthetic-` and names starting with
“Synthetic”. It never reads or changes the curated record, and it is deterministic: the same
`--incidents` and `--seed` give the same rows. Re-running is safe: it first removes the
synthetic rows of an earlier run, then builds anew.

Rows are written with `bulk_create`, so no history (django-simple-history) is recorded for them:
synthetic rows are not curated, and history for 100,000 incidents would only slow the build.
For the same reason `--clear` deletes them with plain SQL DELETEs rather than through the ORM's
collector, which would write a history row per deleted object.
"""

import datetime
import random
import string

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from archive import search
from archive.boilerplate import reading_text
from archive.importexport.engine import analyze
from archive.models import (
    Actor,
    ActorKind,
    ActorRole,
    Assessment,
    Citation,
    EvidenceKind,
    Incident,
    IncidentActor,
    IncidentKind,
    IncidentSearchDocument,
    Monument,
    MonumentKind,
    Site,
    Source,
    Stance,
    Status,
)
from archive.models.places import SYNTHETIC_SLUG_PREFIX
from archive.models.sources import sha256_of
from archive.quotes import anchor_at

PREFIX = SYNTHETIC_SLUG_PREFIX
FIRST_DAY = datetime.date(2011, 3, 15)
LAST_DAY = datetime.date(2024, 12, 31)
MONUMENTS = 40
INCIDENTS_PER_SOURCE = 5
# Changes of control are rare events: one every ~20 months whatever the number of incidents.
CONTROL_CHANGE_EVERY_DAYS = 600
BATCH = 2000

# Centre of the synthetic site: an empty stretch of desert, clearly not a real monument.
SITE_LATITUDE, SITE_LONGITUDE = 34.80, 38.60

ACTORS = [
    ("synthetic-armed-group-a", "Synthetic armed group A", ActorKind.ARMED_GROUP),
    ("synthetic-state-forces", "Synthetic state forces", ActorKind.STATE_FORCES),
    ("synthetic-foreign-air-force", "Synthetic foreign air force", ActorKind.FOREIGN_STATE),
    ("synthetic-militia", "Synthetic militia", ActorKind.MILITIA),
    ("synthetic-opposition", "Synthetic opposition factions", ActorKind.OPPOSITION),
    ("synthetic-unattributed", "Synthetic: unattributed", ActorKind.UNATTRIBUTED),
]
# Who controls the site in turn (indexes into ACTORS).
CONTROLLERS = [1, 0, 1, 0, 1, 4, 1, 0, 1]

KIND_WEIGHTS = [
    (IncidentKind.DAMAGE, 30),
    (IncidentKind.ATTACK, 25),
    (IncidentKind.LOOTING, 15),
    (IncidentKind.DESTRUCTION, 10),
    (IncidentKind.KILLING, 12),
    (IncidentKind.OTHER, 8),
]
VERBS = {
    IncidentKind.DAMAGE: "damaged",
    IncidentKind.ATTACK: "shelled",
    IncidentKind.LOOTING: "looted",
    IncidentKind.DESTRUCTION: "destroyed",
    IncidentKind.KILLING: "killed people near",
    IncidentKind.OTHER: "occupied",
    IncidentKind.CONTROL_CHANGE: "took control of",
}
CLAIMANTS = ["local activists", "a monitoring group", "state media", "a ministry spokesman", "residents"]
ORIGINS = ["Synthetic Wire", "Synthetic Press Agency", "Synthetic Daily newsroom", "Synthetic Radio"]
WORDS = "stone column wall roof courtyard gate relief statue lintel frieze archive street tower".split()


def _slug(kind, n, width=6):
    return f"{PREFIX}{kind}-{n:0{width}d}"


def _date_at(fraction):
    span = (LAST_DAY - FIRST_DAY).days
    return FIRST_DAY + datetime.timedelta(days=int(fraction * span))


def clear():
    """Remove every synthetic row; return how many incidents were removed. Curated rows are untouched."""
    with transaction.atomic():
        incidents = Incident.objects.filter(is_synthetic=True)
        count = incidents.count()
        # Plain DELETEs, children first: see the module docstring for why not `.delete()`.
        Citation.objects.filter(incident__is_synthetic=True)._raw_delete(Citation.objects.db)
        IncidentSearchDocument.objects.filter(incident__is_synthetic=True)._raw_delete(Incident.objects.db)
        IncidentActor.objects.filter(incident__is_synthetic=True)._raw_delete(Incident.objects.db)
        Incident.monuments.through.objects.filter(incident__is_synthetic=True)._raw_delete(Incident.objects.db)
        incidents._raw_delete(Incident.objects.db)
        # Reference rows it made, unless something curated has come to use them since.
        Source.objects.filter(slug__startswith=PREFIX, citations__isnull=True)._raw_delete(Source.objects.db)
        Monument.objects.filter(slug__startswith=PREFIX, incidents__isnull=True)._raw_delete(Monument.objects.db)
        Actor.objects.filter(slug__startswith=PREFIX, incidents__isnull=True)._raw_delete(Actor.objects.db)
        Site.objects.filter(slug__startswith=PREFIX, incidents__isnull=True, monuments__isnull=True)._raw_delete(
            Site.objects.db
        )
    return count


def generate(incident_count, seed=2015):
    """Build `incident_count` synthetic incidents with their citations, after clearing earlier ones."""
    if incident_count < 1:
        raise ValueError("The number of incidents must be at least 1.")
    rng = random.Random(seed)
    now = timezone.now()
    clear()
    with transaction.atomic():
        site = Site.objects.create(
            name="Synthetic site (benchmark data)",
            slug=f"{PREFIX}site",
            country="Nowhere",
            latitude=SITE_LATITUDE,
            longitude=SITE_LONGITUDE,
            description="Made by generate_synthetic for benchmarks. Not a real place; none of this happened.",
        )
        monuments = Monument.objects.bulk_create(
            Monument(
                site=site,
                name=f"Synthetic {rng.choice(MonumentKind.labels).lower()} {n}",
                slug=_slug("monument", n, 3),
                kind=rng.choice(MonumentKind.values),
                latitude=round(SITE_LATITUDE + rng.uniform(-0.008, 0.008), 6),
                longitude=round(SITE_LONGITUDE + rng.uniform(-0.01, 0.01), 6),
                description="Synthetic monument for benchmarks.",
            )
            for n in range(1, MONUMENTS + 1)
        )
        actors = Actor.objects.bulk_create(
            Actor(slug=slug, name=name, kind=kind, description="Synthetic actor for benchmarks.")
            for slug, name, kind in ACTORS
        )

        # Incidents, in date order so that slugs and dates agree.
        fractions = sorted(rng.random() for _ in range(incident_count))
        kinds, weights = zip(*KIND_WEIGHTS, strict=True)
        incidents = []
        plans = []  # per incident: (monuments, citations as (source number, claimant))
        source_count = max(1, incident_count // INCIDENTS_PER_SOURCE)
        controls = 0
        for n, fraction in enumerate(fractions, start=1):
            day = _date_at(fraction)
            offset = (day - FIRST_DAY).days
            if controls < len(CONTROLLERS) and offset >= controls * CONTROL_CHANGE_EVERY_DAYS:
                kind, perpetrator, touched = IncidentKind.CONTROL_CHANGE, actors[CONTROLLERS[controls]], []
                controls += 1
            else:
                kind = rng.choices(kinds, weights)[0]
                perpetrator = rng.choice(actors)
                touched = rng.sample(monuments, rng.choice([0, 1, 1, 1, 2]))
            roll = rng.random()
            status = Status.DRAFT if roll < 0.02 else Status.WITHDRAWN if roll < 0.025 else Status.PUBLISHED
            place = touched[0].name if touched else site.name
            words = " ".join(rng.choice(WORDS) for _ in range(12))
            incidents.append(
                Incident(
                    slug=_slug("incident", n),
                    title=f"Synthetic {kind.label.lower()}: {place} #{n}",
                    kind=kind,
                    site=site,
                    occurred=day.isoformat(),
                    occurred_from=day,
                    occurred_to=day,
                    description=f"Synthetic incident for benchmarks. {perpetrator} {VERBS[kind]} {place}: {words}.",
                    assessment=rng.choice(Assessment.values),
                    status=status,
                    withdrawn_reason="Synthetic withdrawal." if status == Status.WITHDRAWN else "",
                    published_at=now if status == Status.PUBLISHED else None,
                    is_synthetic=True,
                )
            )
            cited = [(n - 1) // INCIDENTS_PER_SOURCE]
            if rng.random() < 0.4:
                cited.append(rng.randrange(source_count))
            sentence = f"Report {n}: {perpetrator} {VERBS[kind]} {place}, {rng.choice(CLAIMANTS)} said."
            plans.append((touched, sorted(set(cited)), sentence, perpetrator))

        # Sources: each holds one sentence per incident that cites it, in paragraphs.
        sentences = [[] for _ in range(source_count)]
        for n, (_, cited, sentence, _actor) in enumerate(plans, start=1):
            for number in cited:
                sentences[number].append((n, sentence))
        sources = []
        anchors = {}  # (incident number, source number) -> (start, end)
        for number, reported in enumerate(sentences):
            day = _date_at(min(1.0, (number + 0.5) / source_count))
            filler = "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
            text = f"Synthetic report {number + 1} ({filler})\n\nThis article is synthetic benchmark data.\n\n"
            for position, (n, sentence) in enumerate(reported):
                anchors[(n, number)] = (len(text), len(text) + len(sentence))
                text += sentence + ("\n\n" if position % 3 == 2 else " ")
            text += "\nEnd of synthetic report.\n"
            sources.append(
                Source(
                    slug=_slug("source", number + 1),
                    title=f"Synthetic report {number + 1}",
                    publisher=f"Synthetic Gazette {number % 7 + 1}",
                    origin=ORIGINS[number % len(ORIGINS)],
                    published_on=day,
                    received_text=text,
                    sha256=sha256_of(text),
                    reading_text=reading_text(text),
                    file_name="",
                )
            )
        Source.objects.bulk_create(sources, batch_size=BATCH)
        sources = list(Source.objects.filter(slug__startswith=PREFIX).order_by("slug"))

        Incident.objects.bulk_create(incidents, batch_size=BATCH)
        ids = dict(Incident.objects.filter(is_synthetic=True).values_list("slug", "pk"))
        Through = Incident.monuments.through
        links, citations, roles = [], [], []
        for n, (incident, (touched, cited, sentence, perpetrator)) in enumerate(
            zip(incidents, plans, strict=True), start=1
        ):
            incident_id = ids[incident.slug]
            links.extend(Through(incident_id=incident_id, monument_id=monument.pk) for monument in touched)
            roles.append(IncidentActor(incident_id=incident_id, actor=perpetrator, role=ActorRole.PERPETRATOR))
            for number in cited:
                source = sources[number]
                start, end = anchors[(n, number)]
                anchor = anchor_at(source.received_text, start, end)
                citations.append(
                    Citation(
                        incident_id=incident_id,
                        source=source,
                        quote=anchor.exact,
                        prefix=anchor.prefix,
                        suffix=anchor.suffix,
                        position_start=start,
                        position_end=end,
                        claimant=sentence.rsplit(", ", 1)[1].removesuffix(" said."),
                        evidence_kind=EvidenceKind.MEDIA_REPORT,
                        stance=Stance.SUPPORTS,
                    )
                )
        Through.objects.bulk_create(links, batch_size=BATCH)
        IncidentActor.objects.bulk_create(roles, batch_size=BATCH)
        Citation.objects.bulk_create(citations, batch_size=BATCH)
        search.reindex(ids.values())  # bulk_create sends no signal: the search documents, in batches
    search.optimise()
    analyze([Site, Monument, Actor, Source, Incident, IncidentActor, Citation, IncidentSearchDocument])
    return {"incidents": len(incidents), "citations": len(citations), "sources": len(sources)}


class Command(BaseCommand):
    help = "Build a deterministic synthetic archive of N incidents for benchmarks, or remove it (--clear)."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, help="How many synthetic incidents to build.")
        parser.add_argument("--seed", type=int, default=2015, help="Random seed (default 2015).")
        parser.add_argument("--clear", action="store_true", help="Remove every synthetic row and build nothing.")

    def handle(self, *args, **options):
        if options["clear"]:
            if options["incidents"] is not None:
                raise CommandError("Give either --clear or --incidents N, not both.")
            removed = clear()
            self.stdout.write(self.style.SUCCESS(f"Removed {removed} synthetic incidents and what they cited."))
            return
        if options["incidents"] is None or options["incidents"] < 1:
            raise CommandError("Say how many incidents to build: --incidents N (N ≥ 1), or --clear.")
        made = generate(options["incidents"], seed=options["seed"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Built {made['incidents']} synthetic incidents, {made['citations']} citations "
                f"and {made['sources']} sources (earlier synthetic rows were replaced)."
            )
        )
