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
from .review import ProposedChange, ReviewState
from .sources import Source
from .versioning import EditedMeanwhile

__all__ = [
    "Actor",
    "ActorKind",
    "Assessment",
    "Citation",
    "Condition",
    "DatePrecision",
    "EditedMeanwhile",
    "EvidenceKind",
    "Image",
    "ImageKind",
    "Incident",
    "IncidentKind",
    "Monument",
    "MonumentKind",
    "ProposedChange",
    "ReviewState",
    "Site",
    "Source",
    "SourceKind",
    "Stance",
    "Status",
    "UnescoStatus",
]
