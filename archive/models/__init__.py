from .actors import Actor
from .choices import (
    ActorKind,
    ActorRole,
    Assessment,
    Condition,
    DatePrecision,
    EvidenceKind,
    ImageKind,
    IncidentKind,
    Measure,
    MonumentKind,
    Presentation,
    SiteKind,
    SourceKind,
    Stance,
    Status,
    UnescoStatus,
)
from .images import Image
from .incidents import Citation, Figure, Incident, IncidentActor
from .places import Monument, Site
from .review import ProposedChange, ReviewState
from .search import IncidentFullText, IncidentSearchDocument
from .sources import Source
from .versioning import EditedMeanwhile

__all__ = [
    "Actor",
    "ActorKind",
    "ActorRole",
    "Assessment",
    "Citation",
    "Condition",
    "DatePrecision",
    "EditedMeanwhile",
    "EvidenceKind",
    "Figure",
    "Image",
    "ImageKind",
    "Incident",
    "IncidentActor",
    "IncidentKind",
    "IncidentFullText",
    "IncidentSearchDocument",
    "Monument",
    "Measure",
    "MonumentKind",
    "Presentation",
    "ProposedChange",
    "ReviewState",
    "Site",
    "Source",
    "SiteKind",
    "SourceKind",
    "Stance",
    "Status",
    "UnescoStatus",
]
