"""Rendering: the folium map page, the trade chart and their offline assets.

The only package besides ``geotrack.cli`` that imports folium (lazily).
"""
