"""Vocabularies of the archive. Module level so that `Meta.constraints` can refer to them."""

from django.db import models


class DatePrecision(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class ActorRole(models.TextChoices):
    """What the sources say an actor did in an incident."""

    PERPETRATOR = "perpetrator", "Perpetrator"
    SUPPORTING = "supporting", "Supporting force"
    CLAIMED = "claimed", "Claimed responsibility"
    ACCUSED = "accused", "Accused by a claimant"


class UnescoStatus(models.TextChoices):
    NOT_RECORDED = "not_recorded", "Not recorded"
    NONE = "none", "Not listed"
    TENTATIVE = "tentative", "Tentative list"
    WORLD_HERITAGE = "world_heritage", "World Heritage Site"
    IN_DANGER = "in_danger", "World Heritage in Danger"


class MonumentKind(models.TextChoices):
    TEMPLE = "temple", "Temple"
    THEATRE = "theatre", "Theatre"
    ARCH = "arch", "Arch"
    TETRAPYLON = "tetrapylon", "Tetrapylon"
    MUSEUM = "museum", "Museum"
    CASTLE = "castle", "Castle"
    COLONNADE = "colonnade", "Colonnade"
    TOMB = "tomb", "Tomb"
    MARKET = "market", "Market"
    PRISON = "prison", "Prison"
    OTHER = "other", "Other"


class ActorKind(models.TextChoices):
    ARMED_GROUP = "armed_group", "Non-state armed group"
    STATE_FORCES = "state_forces", "State forces"
    FOREIGN_STATE = "foreign_state", "Foreign state forces"
    MILITIA = "militia", "Allied militia"
    OPPOSITION = "opposition", "Opposition factions"
    UNATTRIBUTED = "unattributed", "Unattributed"


class SourceKind(models.TextChoices):
    NEWS_ARTICLE = "news_article", "News article"
    REPORT = "report", "Report"
    STATEMENT = "statement", "Official statement"
    OTHER = "other", "Other"


class IncidentKind(models.TextChoices):
    DESTRUCTION = "destruction", "Destruction"
    DAMAGE = "damage", "Damage"
    LOOTING = "looting", "Looting"
    KILLING = "killing", "Killing"
    ATTACK = "attack", "Attack"
    CONTROL_CHANGE = "control_change", "Change of control"
    OTHER = "other", "Other"


class Assessment(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CORROBORATED = "corroborated", "Corroborated"
    SINGLE_SOURCE = "single_source", "Single source"
    CONTESTED = "contested", "Contested"
    UNVERIFIED = "unverified", "Unverified"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class EvidenceKind(models.TextChoices):
    EYEWITNESS = "eyewitness", "Eyewitness"
    OFFICIAL_STATEMENT = "official_statement", "Official statement"
    MONITORING_GROUP = "monitoring_group", "Monitoring group"
    PERPETRATOR_PROPAGANDA = "perpetrator_propaganda", "Perpetrator's own propaganda"
    IMAGERY = "imagery", "Satellite or drone imagery"
    REPORTER = "reporter", "Reporter's own reporting"
    MEDIA_REPORT = "media_report", "Other media report"
    EXPERT = "expert", "Expert or researcher"
    UNSPECIFIED = "unspecified", "Unspecified"


class Stance(models.TextChoices):
    SUPPORTS = "supports", "Supports"
    DISPUTES = "disputes", "Disputes"
    CONTRADICTS = "contradicts", "Contradicts another citation"


class Presentation(models.TextChoices):
    """How the source itself presents a claim."""

    STATED = "stated", "Stated as fact"
    ATTRIBUTED = "attributed", "Attributed (“X said”)"
    REPORTED = "reported", "Reported or alleged (“reportedly”, “said to have”)"
    UNVERIFIED = "unverified", "Explicitly unverified (“could not be verified”)"
    DENIED = "denied", "Denied by someone"


class Measure(models.TextChoices):
    """What a figure in a passage counts."""

    KILLED = "killed", "People killed"
    WOUNDED = "wounded", "People wounded"
    EXECUTED = "executed", "People executed"
    MILITANTS_KILLED = "militants_killed", "Militants killed"
    TROOPS_KILLED = "troops_killed", "Troops killed"
    AIRSTRIKES = "airstrikes", "Airstrikes"
    DISPLACED = "displaced", "People displaced"
    OTHER = "other", "Other"


class SiteKind(models.TextChoices):
    HERITAGE_SITE = "heritage_site", "Heritage site"
    HISTORIC_QUARTER = "historic_quarter", "Historic quarter"
    TOWN = "town", "Town or city"
    REGION = "region", "Region"


class Condition(models.TextChoices):
    """A monument's condition, derived from its published incidents (never stored)."""

    INTACT = "intact", "Intact (no damage reported)"
    DAMAGED = "damaged", "Damaged"
    DESTROYED = "destroyed", "Destroyed"
    UNKNOWN = "unknown", "Unknown"


class ImageKind(models.TextChoices):
    BEFORE = "before", "Photograph before"
    AFTER = "after", "Photograph after"
    SATELLITE = "satellite", "Satellite view"
    DRONE = "drone", "Drone view"
    OTHER = "other", "Other"
