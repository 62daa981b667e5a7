"""How far an incident is established, derived from its claims by written rules.

The sources hand us claims, not facts. Each citation records how its source presents the claim
(stated, attributed, reported or alleged, explicitly unverified, denied), whether the passage names
the incident's monument, its stance, and its origin. From those, `assess()` gives the incident's
assessment with the reason in words; the methodology page prints `RULES`, the same text the code
follows. A curator may override the result only with a reason, which is shown beside it.
"""

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from .choices import Assessment, Presentation, Stance

# Claims the source makes its own or attributes to a named party: they can corroborate.
FIRM = (Presentation.STATED, Presentation.ATTRIBUTED)
# Claims the source hedges ("reportedly", "said to have") or says it could not verify.
HEDGED = (Presentation.REPORTED, Presentation.UNVERIFIED)

RULES = [
    (
        Assessment.CONTESTED,
        "At least one citation disputes the incident or contradicts another citation, or the source reports "
        "that someone denies it. Both sides are shown.",
    ),
    (
        Assessment.UNVERIFIED,
        "Every supporting claim is hedged by its own source (“reportedly”, “said to have”) or explicitly "
        "unverified (“could not be verified”), or no firm claim names the monument.",
    ),
    (
        Assessment.CORROBORATED,
        "Two or more independent origins name it in firm claims (stated as fact, or attributed to a named "
        "party), and none disputes it.",
    ),
    (
        Assessment.SINGLE_SOURCE,
        "One origin names it in a firm claim, and none disputes it.",
    ),
    (
        Assessment.CONFIRMED,
        "Never derived: a curator may assess an incident as confirmed (for instance, from satellite imagery "
        "and independent reporting) only with a reason, which is shown.",
    ),
]


def effective_origin(citation):
    """The claim's own origin (a wire caption inside an article) or else its source's."""
    return citation.origin or citation.source.origin


def counts_toward_corroboration(citation, has_monuments):
    """A firm, supporting claim in a passage that names the incident's monument (every passage
    counts for an incident at no monument)."""
    return (
        citation.stance == Stance.SUPPORTS
        and citation.presentation in FIRM
        and (citation.names_monument or not has_monuments)
    )


def assess(citations, *, has_monuments):
    """(assessment, reason) for an incident with these citations."""
    citations = list(citations)
    supporting = [c for c in citations if c.stance == Stance.SUPPORTS]
    against = [c for c in citations if c.stance in (Stance.DISPUTES, Stance.CONTRADICTS)]
    denied = [c for c in citations if c.presentation == Presentation.DENIED]
    if against or denied:
        who = sorted({c.claimant or effective_origin(c) for c in against + denied})
        return Assessment.CONTESTED, f"Disputed, contradicted or denied by {_names(who)}."
    if not supporting:
        return Assessment.UNVERIFIED, "No citation supports it."
    if all(c.presentation in HEDGED for c in supporting):
        return Assessment.UNVERIFIED, "Every claim of it is hedged or unverified by its own source."
    origins = sorted({effective_origin(c) for c in supporting if counts_toward_corroboration(c, has_monuments)})
    if not origins:
        return Assessment.UNVERIFIED, "No firm claim names the monument; the passages report a broader event."
    if len(origins) >= 2:
        return (
            Assessment.CORROBORATED,
            f"{len(origins)} independent origins name it ({_names(origins)}); none disputes it.",
        )
    return Assessment.SINGLE_SOURCE, f"One origin names it ({origins[0]}); none disputes it."


def _names(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def claim_origin():
    """The database expression for `effective_origin`: the claim's own origin or its source's."""
    return Coalesce(NullIf(F("origin"), Value("")), F("source__origin"))


def corroborating():
    """A filter on citations for `counts_toward_corroboration`, in the database."""
    from .incidents import Incident

    located = Exists(Incident.monuments.through.objects.filter(incident_id=OuterRef("incident_id")))
    return Q(stance=Stance.SUPPORTS, presentation__in=FIRM) & (Q(names_monument=True) | ~located)


def origin_count_expression(citations_of_incident):
    """A subquery counting the independent origins that corroborate the outer incident, by the
    rule above (firm, supporting, naming claims; an origin counted once), in the database."""
    counted = (
        citations_of_incident.filter(corroborating())
        .values("incident")
        .annotate(n=Count(claim_origin(), distinct=True))
    )
    return Coalesce(Subquery(counted.values("n")), 0)
