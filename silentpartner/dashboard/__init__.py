"""The owner dashboard (appointments, calls, transcripts) and the browser phone: not built yet.

The package exists so the import map in DESIGN.md holds; nothing imports it today.
"""
