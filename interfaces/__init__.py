"""Where people and other systems come in: one Django app per audience.

``staff`` (login, the Today page, settings, roles), ``frontdesk`` (reservations, guests,
one-off messages), ``marketing`` (campaign screens), ``operator`` (send log, unknown
outcomes, credits), ``portal`` (the guests' own pages), ``monitoring`` (Prometheus
metrics). They call the services of the layers below and never each other; ``urls``
mounts them all.
"""
