"""`import_seeds`: the five articles stored exactly as received, idempotent, all or nothing."""

import csv
import hashlib
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from archive.models import Source

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SHARED_SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_seeds", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def seeds_copy(tmp_path):
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def rewrite_manifest(folder, change):
    path = folder / "manifest.csv"
    with path.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_the_seed_folder_holds_the_shared_articles_under_their_own_names():
    ours = sorted(path.name for path in SEEDS.glob("*.txt"))
    assert len(ours) == 5
    if SHARED_SEEDS.is_dir():
        assert ours == sorted(path.name for path in SHARED_SEEDS.glob("*.txt"))
        for name in ours:
            assert (SEEDS / name).read_bytes() == (SHARED_SEEDS / name).read_bytes()


def test_manifest_describes_every_file():
    with (SEEDS / "manifest.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["file"] for row in rows) == sorted(path.name for path in SEEDS.glob("*.txt"))
    for row in rows:
        for column in ("title", "publisher", "origin", "published_on", "date_precision", "date_note", "language"):
            assert row[column].strip(), f"{row['file']}: {column} is empty"


def test_imports_five_sources_exactly_as_received():
    output = run()
    assert "5 source(s) created" in output
    assert Source.objects.count() == 5
    for source in Source.objects.all():
        raw = (SEEDS / source.file_name).read_bytes()
        assert source.received_text.encode("utf-8") == raw
        assert source.sha256 == hashlib.sha256(raw).hexdigest()


def test_second_run_creates_nothing_and_says_so():
    run()
    before = list(Source.objects.values_list("pk", "sha256", "received_text"))
    output = run()
    assert "Nothing to do" in output
    assert list(Source.objects.values_list("pk", "sha256", "received_text")) == before
    assert Source.history.count() == 5  # the second run wrote no history either


def test_import_is_recorded_in_history_with_the_command_as_reason():
    run()
    assert set(Source.history.values_list("history_change_reason", flat=True)) == {"import_seeds"}


def test_reading_text_drops_boilerplate_but_received_text_keeps_it():
    run()
    independent = Source.objects.get(publisher="The Independent")
    assert "Register for free to continue reading" in independent.received_text
    for furniture in ("Register for free", "Please enter a valid email", "Join our new commenting forum", "reCAPTCHA"):
        assert furniture not in independent.reading_text
    assert "Mr Putin has also made clear that Russian support" in independent.reading_text

    guardian = Source.objects.get(origin="The Guardian")
    assert "READ SOME MORE" not in guardian.reading_text
    caption = "A file photo shows the ancient oasis city of Palmyra"
    assert guardian.received_text.count("ancient oasis city of Palmyra, which") == 2
    assert guardian.reading_text.count("ancient oasis city of Palmyra, which") == 1
    assert caption in " ".join(guardian.reading_text.split())

    for source in Source.objects.all():
        for furniture in (
            "Share this post",
            "Leave a Reply",
            "Send this to a friend",
            "Topics:",
            "scroll to top",
            "First posted",
        ):
            assert furniture not in source.reading_text, (source.slug, furniture)
    abc = Source.objects.get(origin="Reuters/AP")
    assert abc.reading_text.count("Syria activists say Islamic State has recaptured Palmyra") == 1
    assert "Embrace death for Aleppo" in abc.reading_text


def test_manifest_row_without_its_file(seeds_copy):
    (seeds_copy / "003_6e0dc4009cb42494.txt").unlink()
    with pytest.raises(CommandError) as caught:
        run("--seeds-dir", str(seeds_copy))
    assert "manifest.csv:5: file: 003_6e0dc4009cb42494.txt does not exist" in str(caught.value)
    assert Source.objects.count() == 0  # all or nothing


def test_unreadable_file(seeds_copy):
    (seeds_copy / "001_3fd48a2bf4d62dac.txt").write_bytes(b"\xff\xfe not utf-8 \x80")
    with pytest.raises(CommandError) as caught:
        run("--seeds-dir", str(seeds_copy))
    assert "manifest.csv:3: file: 001_3fd48a2bf4d62dac.txt is not UTF-8 text" in str(caught.value)
    assert Source.objects.count() == 0


def test_missing_manifest(seeds_copy):
    (seeds_copy / "manifest.csv").unlink()
    with pytest.raises(CommandError, match="manifest is missing"):
        run("--seeds-dir", str(seeds_copy))


def test_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        run("--seeds-dir", str(tmp_path / "nowhere"))


def test_every_bad_row_is_reported_not_just_the_first(seeds_copy):
    def spoil(rows):
        rows[0]["published_on"] = "last May"
        rows[1]["date_precision"] = "week"
        rows[2]["title"] = ""
        rows[3]["slug"] = rows[4]["slug"]
        return rows

    rewrite_manifest(seeds_copy, spoil)
    with pytest.raises(CommandError) as caught:
        run("--seeds-dir", str(seeds_copy))
    message = str(caught.value)
    assert "manifest.csv:2: published_on: “last May” is not a date" in message
    assert "manifest.csv:3: date_precision: “week” is not one of day, month, year" in message
    assert "manifest.csv:4: title: required" in message
    assert "manifest.csv:6: slug:" in message and "already on line 5" in message
    assert Source.objects.count() == 0


def test_missing_column(seeds_copy):
    path = seeds_copy / "manifest.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace(",origin,", ",source_outlet,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        run("--seeds-dir", str(seeds_copy))


def test_a_changed_text_never_replaces_the_stored_one(seeds_copy):
    run("--seeds-dir", str(seeds_copy))
    target = seeds_copy / "000_aae2f3adf396e9ec.txt"
    target.write_text(target.read_text(encoding="utf-8") + "A later correction.\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run("--seeds-dir", str(seeds_copy))
    assert "differs from the text already stored" in str(caught.value)
    assert "A later correction." not in Source.objects.get(file_name=target.name).received_text


def test_unlisted_file_is_mentioned(seeds_copy):
    (seeds_copy / "999_extra.txt").write_text("Stray article\n", encoding="utf-8")
    output = run("--seeds-dir", str(seeds_copy))
    assert "999_extra.txt is in the seeds folder but not in manifest.csv" in output
    assert Source.objects.count() == 5


def test_manifest_metadata_change_updates_the_source_not_its_text(seeds_copy):
    run("--seeds-dir", str(seeds_copy))

    def retitle(rows):
        rows[0]["url"] = "https://example.org/article"
        return rows

    rewrite_manifest(seeds_copy, retitle)
    output = run("--seeds-dir", str(seeds_copy))
    assert "1 updated" in output
    assert Source.objects.get(file_name="000_aae2f3adf396e9ec.txt").url == "https://example.org/article"


def test_the_five_seeds_are_created_without_a_warning():
    output = run()
    assert output.strip().splitlines()[-1] == "5 source(s) created, 0 updated, 0 unchanged."
    assert not Source.objects.exclude(resemblance="").exists()


def test_a_seed_that_is_the_same_article_is_created_flagged_and_named_in_the_summary(seeds_copy):
    run("--seeds-dir", str(seeds_copy))
    original = Source.objects.get(file_name="002_f474df98911a8dcd.txt")
    body = original.received_text.split("\n", 1)[1]
    (seeds_copy / "005_reprint.txt").write_text(f"Another headline\n{body}", encoding="utf-8")

    def add_reprint(rows):
        reprint = {**rows[2], "file": "005_reprint.txt", "slug": "reprint", "publisher": "Gulf News"}
        return [*rows, reprint]

    rewrite_manifest(seeds_copy, add_reprint)
    output = run("--seeds-dir", str(seeds_copy))
    assert "1 source(s) created, 0 updated, 5 unchanged. 1 look like sources already in the archive" in output
    assert f"  reprint: This shares most of its body (100% of its passages) with “{original.title}”" in output
    reprint = Source.objects.get(slug="reprint")
    assert (reprint.resembles, reprint.resemblance) == (original, "wire_copy")
