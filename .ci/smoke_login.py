"""Log in to the running app with a demo account; exit non-zero if that fails."""

from __future__ import annotations

import re
import sys

import requests

base, username, password = sys.argv[1:4]
session = requests.Session()
page = session.get(f"{base}/accounts/login/", timeout=10)
page.raise_for_status()
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
assert token, "no CSRF token on the login page"
answer = session.post(
    f"{base}/accounts/login/",
    data={
        "csrfmiddlewaretoken": token.group(1),
        "username": username,
        "password": password,
        "next": "/",
    },
    headers={"Referer": f"{base}/accounts/login/"},
    timeout=10,
)
answer.raise_for_status()
if "/accounts/login/" in answer.url or "Log out" not in answer.text:
    print(f"demo login failed: ended at {answer.url}")
    sys.exit(1)
for path in ("/desk/reservations/", "/campaigns/", "/messages/", "/credits/", "/admin/"):
    screen = session.get(f"{base}{path}", timeout=10)
    if screen.status_code != 200:
        print(f"{path} answered {screen.status_code} for {username}")
        sys.exit(1)
print(f"logged in as {username}; the main screens answer")
