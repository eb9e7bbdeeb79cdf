"""Operations, at the kernel level (it imports none of the apps above it).

Liveness and readiness (``health``), the probes' middleware, the worker and beat heartbeats,
the lock that keeps a second beat from scheduling (``beat``), the kernel's housekeeping
tasks (expired sessions) and the optional Sentry set-up.
"""
