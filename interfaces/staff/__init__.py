"""The staff shell: login, the Today page, the settings screen, roles and the header."""
