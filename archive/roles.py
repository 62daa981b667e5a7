"""The two curation roles as Django groups: Curator and Editor.

Migration 0002 builds them with its historical app registry; tests that flush the database
(transactional browser tests) rebuild them with the same function, so both agree.

- Curator: adds, edits and views sites, monuments, actors, sources, incidents, citations and
  images, and may remove a citation or an image (parts of the record being edited). Cannot
  publish or withdraw, cannot delete a record, cannot manage users.
- Editor: everything a curator does, plus delete, publish and withdraw, and revert a record to
  an earlier version (simple-history's "change" permission on the historical model).
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS

CURATOR = "Curator"
EDITOR = "Editor"

CURATED_MODELS = ("site", "monument", "actor", "source", "incident", "incidentactor", "citation", "image", "figure")
# A curator edits an incident's actors, citations, their figures and a record's images, and may take one out.
CURATOR_MAY_DELETE = ("citation", "image", "figure", "incidentactor")


def role_permissions(models=CURATED_MODELS) -> dict[str, set[str]]:
    """Permission codenames (all in the `archive` app) of each role, for the curated `models`
    that exist (a migration builds the groups with the models of its own state)."""
    models = [model for model in CURATED_MODELS if model in models]
    curator = {f"{action}_{model}" for model in models for action in ("add", "change", "view")}
    curator |= {f"delete_{model}" for model in CURATOR_MAY_DELETE if model in models}
    editor = set(curator)
    editor |= {f"delete_{model}" for model in models}
    editor.add("publish_incident")
    # Reverting to an earlier version is a change made through the history admin.
    editor |= {f"change_historical{model}" for model in models}
    return {CURATOR: curator, EDITOR: editor}


def ensure_groups(apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create (or reset) the Curator and Editor groups with exactly their permissions."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    # In a migration on a fresh database, permissions are only made after the last migration
    # (post_migrate); make the archive's now so the groups can hold them.
    app_config = apps.get_app_config("archive")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    finally:
        app_config.models_module = models_module

    present = {model._meta.model_name for model in app_config.get_models()}
    for name, codenames in role_permissions(present).items():
        permissions = list(
            Permission.objects.using(using).filter(content_type__app_label="archive", codename__in=codenames)
        )
        missing = codenames - {permission.codename for permission in permissions}
        if missing:
            raise LookupError(f"Group {name}: no such permission(s): {', '.join(sorted(missing))}.")
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(permissions)


def remove_groups(apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    apps.get_model("auth", "Group").objects.using(using).filter(name__in=[CURATOR, EDITOR]).delete()
