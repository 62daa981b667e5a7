from .actors import Actor
from .choices import (
    ActorKind,
    Assessment,
    Condition,
    DatePrecision,
    EvidenceKind,
    ImageKind,
    IncidentKind,
    MonumentKind,
    SourceKind,
    Stance,
    Status,
    UnescoStatus,
)
from .images import Image
from .incidents import Citation, Incident
from .places import Monument, Site
from .sources import Source

__all__ = [
    "Actor",
    "ActorKind",
    "Assessment",
    "Citation",
    "Condition",
    "DatePrecision",
    "EvidenceKind",
    "Image",
    "ImageKind",
    "Incident",
    "IncidentKind",
    "Monument",
    "MonumentKind",
    "Site",
    "Source",
    "SourceKind",
    "Stance",
    "Status",
    "UnescoStatus",
]
