"""The ``guanxi`` command: Django's management commands plus Guanxi's own.

guanxi migrate                  create or upgrade the database
guanxi serve [--port 8000]      production WSGI server (gunicorn) with static files and a job worker
guanxi worker                   background-job worker (imports, analytics, nightly schedule)
guanxi demo [--customers N] [--seed S] [--if-empty]   load a demo company
guanxi token create USER        print a new API token (alone on the last line)
guanxi createsuperuser          the first administrator of a real install
guanxi search rebuild           recompute the search index
guanxi check --deploy           configuration check (set GUANXI_PRODUCTION=1 and a secret key)
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.config.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["guanxi", *args])
    if argv is None:
        _quick_exit()


def _quick_exit() -> None:
    """Leave without the interpreter's teardown once a command has finished: the database
    connections are closed, logs and output flushed, and freeing every module and object one by
    one (numpy, scipy, Django: a third of a second after an analytics run) would change nothing."""
    import logging

    from django.db import connections

    connections.close_all()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
