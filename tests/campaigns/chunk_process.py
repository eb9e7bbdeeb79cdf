"""A worker process running one chunk of a campaign run against a given database (for tests).

``python -m tests.campaigns.chunk_process RUN_ID ID [ID …]`` with ``DATABASE_URL`` pointing at
the test database: it sets Django up, says ``ready`` on stdout, waits for a line on stdin (the
other worker is ready too), runs ``run_send_chunk`` and exits 0, or prints the traceback and
exits 1.
"""

from __future__ import annotations

import sys
import traceback


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from campaigns.services import run_send_chunk

    run_id, record_ids = int(argv[0]), [int(value) for value in argv[1:]]
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        run_send_chunk(run_id, record_ids)
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_messaging.settings")
    sys.exit(main(sys.argv[1:]))
