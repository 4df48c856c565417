"""Coordinator heat maps: the map page, its shareable exports, and the page shown while a map is rendered."""
