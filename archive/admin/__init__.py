"""The curators' workbench: every curated model registered, with roles, publishing, history,
quote checking, mention finding and image cleaning. One module per topic."""

from . import actors, images, incidents, places, review, sources

__all__ = ["actors", "images", "incidents", "places", "review", "sources"]
