"""Claims about stretches of the river: recording them and checking them.

A claim is a count of crossings over an area described in words, printed by
one or more relays.  :mod:`geotrack.claims.records` resolves the area to a
window of the stretch and stores claims in the workspace's claims layer (the
same lock, atomic write, history and undo as crossings);
:mod:`geotrack.claims.check` measures each window along the river and in a
straight line and sets the stated lengths and counts beside the measures.
The fields and their codes are in :mod:`geotrack.claim_schema`.
"""
