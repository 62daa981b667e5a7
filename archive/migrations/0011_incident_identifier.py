"""Incidents get a stable short identifier (issue 11): their site's prefix and a number never
given twice (archive.models.identifiers). The stored incidents are numbered per prefix in the
order they were created (created_at, then id), so the oldest Palmyra incident is PAL-0001. Their
history rows get their identifier; the history of an incident deleted before this migration gets
a number of its own after those of the living incidents, so no later incident can take it. Each
prefix's counter starts at the highest number given."""

from django.db import migrations, models

from archive.models.identifiers import site_prefix

BATCH = 1000


def number_incidents(apps, schema_editor):
    Incident = apps.get_model("archive", "Incident")
    HistoricalIncident = apps.get_model("archive", "HistoricalIncident")
    Site = apps.get_model("archive", "Site")
    IdentifierCounter = apps.get_model("archive", "IdentifierCounter")

    sites = {site.pk: site for site in Site.objects.select_related("parent")}

    def prefix_of(site_id):
        site = sites.get(site_id)
        if site is None:
            return site_prefix("")
        return site_prefix(site.slug, site.parent.slug if site.parent_id else "")

    last = {}
    identifiers = {}
    changed = []
    for incident in Incident.objects.order_by("created_at", "pk").only("pk", "site_id", "created_at"):
        prefix = prefix_of(incident.site_id)
        last[prefix] = last.get(prefix, 0) + 1
        incident.identifier_prefix, incident.identifier_number = prefix, last[prefix]
        identifiers[incident.pk] = (prefix, last[prefix])
        changed.append(incident)
    Incident.objects.bulk_update(changed, ["identifier_prefix", "identifier_number"], batch_size=BATCH)

    # Incidents deleted before now live on only in their history: first seen first.
    gone = (
        HistoricalIncident.objects.exclude(id__in=list(identifiers))
        .values("id")
        .annotate(first=models.Min("history_date"), any_site=models.Min("site_id"))
        .order_by("first", "id")
    )
    for row in gone:
        prefix = prefix_of(row["any_site"])
        last[prefix] = last.get(prefix, 0) + 1
        identifiers[row["id"]] = (prefix, last[prefix])

    rows = []
    for row in HistoricalIncident.objects.only("history_id", "id").iterator(chunk_size=BATCH):
        row.identifier_prefix, row.identifier_number = identifiers[row.id]
        rows.append(row)
        if len(rows) >= BATCH:
            HistoricalIncident.objects.bulk_update(rows, ["identifier_prefix", "identifier_number"])
            rows = []
    HistoricalIncident.objects.bulk_update(rows, ["identifier_prefix", "identifier_number"])

    IdentifierCounter.objects.bulk_create(
        [IdentifierCounter(prefix=prefix, last_number=number) for prefix, number in sorted(last.items())]
    )


def forget_numbers(apps, schema_editor):
    apps.get_model("archive", "IdentifierCounter").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("archive", "0010_source_originals"),
    ]

    operations = [
        migrations.CreateModel(
            name="IdentifierCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("prefix", models.CharField(max_length=8, unique=True)),
                ("last_number", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name="incident",
            name="identifier_prefix",
            field=models.CharField(default="", editable=False, max_length=8),
        ),
        migrations.AddField(
            model_name="incident",
            name="identifier_number",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="historicalincident",
            name="identifier_prefix",
            field=models.CharField(default="", editable=False, max_length=8),
        ),
        migrations.AddField(
            model_name="historicalincident",
            name="identifier_number",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(number_incidents, forget_numbers),
        migrations.AlterField(
            model_name="incident",
            name="identifier_prefix",
            field=models.CharField(
                editable=False,
                help_text="Its site's prefix when first saved (PAL, ALP); kept if the site changes.",
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="incident",
            name="identifier_number",
            field=models.PositiveIntegerField(
                editable=False,
                help_text="Given once from a counter per prefix (archive.models.identifiers); never reused.",
            ),
        ),
        migrations.AlterField(
            model_name="historicalincident",
            name="identifier_prefix",
            field=models.CharField(
                editable=False,
                help_text="Its site's prefix when first saved (PAL, ALP); kept if the site changes.",
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="historicalincident",
            name="identifier_number",
            field=models.PositiveIntegerField(
                editable=False,
                help_text="Given once from a counter per prefix (archive.models.identifiers); never reused.",
            ),
        ),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.UniqueConstraint(
                fields=("identifier_prefix", "identifier_number"), name="archive_incident_identifier_unique"
            ),
        ),
    ]
