"""The access matrix of the import pages for every role: importing is for administrators, managers
and account managers (403 for the others); a job is seen by its creator and administrators only
(404 for anyone else, naming nothing)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from guanxi.imports.models import ImportJob
from test_access_ui import VISIBLE, _users

COVERED_PAGES = {"imports:index", "imports:detail", "imports:start", "imports:progress", "imports:report"}
IMPORTERS = {"admin", "manager1", "manager2", "rep1a", "rep1b", "rep2a", "rep2b"}
ROLES = list(VISIBLE)
CSV = "客户名称,下单日期,金额\n华东精密机械有限公司,2024-05-20,10\n华东精密机械有限公司,bad,10\n".encode()


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def _client(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


@pytest.fixture
def job(world):
    """rep1a's finished (failed) import of an order for A, with an error report."""
    c = _client(world.org.rep1a)
    c.post(reverse("imports:index"), {"kind": "orders", "file": SimpleUploadedFile("rep1a-orders.csv", CSV)})
    job = ImportJob.objects.get()
    c.post(
        reverse("imports:start", args=[job.pk]),
        {"col_0": "customer_name", "col_1": "order_date", "col_2": "amount"},
    )
    job.refresh_from_db()
    assert job.errors_count == 1
    return job


@pytest.mark.parametrize("role", ROLES)
def test_import_pages_by_role(world, job, role):
    user = _users(world)[role]
    c = _client(user)
    index = c.get(reverse("imports:index"))
    assert index.status_code == (200 if role in IMPORTERS else 403), role
    sees = role in ("rep1a", "admin")
    assert (job.original_name in index.content.decode()) == sees, role
    for name in ("detail", "progress", "report"):
        resp = c.get(reverse(f"imports:{name}", args=[job.pk]))
        if sees:
            assert resp.status_code in (200, 204), (role, name, resp.status_code)
        else:
            assert resp.status_code == 404, (role, name, resp.status_code)
            assert job.original_name not in resp.content.decode()
    before = ImportJob.objects.values_list("state", flat=True).get()
    resp = c.post(reverse("imports:start", args=[job.pk]), {"col_0": "customer_name"})
    assert resp.status_code == (302 if sees else 404), role
    assert ImportJob.objects.values_list("state", flat=True).get() == before


@pytest.mark.parametrize("role", ROLES)
def test_uploading_is_for_importers(world, role):
    c = _client(_users(world)[role])
    resp = c.post(reverse("imports:index"), {"kind": "orders", "file": SimpleUploadedFile("x.csv", CSV)})
    assert resp.status_code == (302 if role in IMPORTERS else 403), role
    assert ImportJob.objects.exists() == (role in IMPORTERS)
