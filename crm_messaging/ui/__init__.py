"""What every staff screen and admin page shares, whichever app it belongs to.

``screens``: the base staff view, pagination, the safe redirect after a POST, a refusal as a
flash message. ``admin``: links to admin pages, service-backed and read-only admin classes.
Nothing here knows an app: the apps build on it.
"""
