"""``guanxi serve``: gunicorn serving the WSGI app; whitenoise serves the static files."""

import multiprocessing
import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Guanxi with gunicorn (a production WSGI server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("GUANXI_WORKERS", "0")) or None)
        parser.add_argument("--threads", type=int, default=int(os.environ.get("GUANXI_THREADS", "4")))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start a background-job worker (run `guanxi worker`)",
        )

    def handle(self, *args, host, port, workers, threads, no_worker=False, **options):
        import subprocess
        import sys

        from gunicorn.app.base import BaseApplication

        from guanxi.config.wsgi import application

        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        workers = workers or min(4, multiprocessing.cpu_count() + 1)

        class App(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("accesslog", "-" if os.environ.get("GUANXI_ACCESS_LOG") else None)
                self.cfg.set("timeout", 120)

            def load(self):
                return application

        self.stdout.write(f"Guanxi on http://{host}:{port}/ ({workers} workers × {threads} threads)")
        worker = None
        if not no_worker and not settings.HUEY.get("immediate"):
            # the background jobs (imports, analytics runs, nightly schedule) in a child process
            worker = subprocess.Popen([sys.executable, "-m", "guanxi.cli", "worker"])
            self.stdout.write(f"Background-job worker started (pid {worker.pid}).")
        try:
            App().run()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
