"""Background jobs of the import app (huey): running an uploaded import, and writing the search
terms of the customers a large import created (pinyin costs ~0.2 ms a name, so a million new
customers are left out of the import itself and made searchable here, in small transactions)."""

from huey.contrib.djhuey import db_task


@db_task()
def run_import_job(job_id: int) -> None:
    from . import services

    services.run_job(job_id)


@db_task()
def build_search_terms(job_id: int, lo: int, hi: int) -> None:
    from . import services

    services.write_search_terms(job_id, lo, hi)
