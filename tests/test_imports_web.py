"""The import in the browser and over the API: upload → preview with the mapping → run in the
background (jobs run inline under pytest) with a progress bar → result → error report (CSV, XLSX);
POST /api/v1/imports, GET /api/v1/imports/{id} and /errors; who sees which job."""

from __future__ import annotations

import io
import time

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

import factories
from guanxi.imports import services
from guanxi.imports.models import ImportJob, JobState
from guanxi.sales.models import Order

CSV = "客户编号,日期,钱,备注列\nK1,2024-05-20,10,x\nK1,2024-05-21,oops,y\nK2,2024-05-22,30,z\n".encode()


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def coded(org):
    return (
        factories.make_customer(org.admin, name="华东精密机械有限公司", code="K1", owner=org.rep1a),
        factories.make_customer(org.admin, name="岭南电子科技有限公司", code="K2", owner=org.rep2a),
    )


def client(user, lang="en") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(user)
    return c


def upload(c: Client, content: bytes = CSV, name: str = "orders.csv", **data):
    return c.post(
        reverse("imports:index"), {"kind": "orders", "file": SimpleUploadedFile(name, content), **data}
    )


def test_upload_preview_map_run_result_and_report(org, coded):
    c = client(org.admin)
    assert c.get(reverse("imports:index")).status_code == 200
    resp = upload(c)
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("imports:detail", args=[job.pk])
    assert job.state == JobState.UPLOADED and job.mapping == ["customer_code", "order_date", "", ""]
    page = c.get(resp["Location"]).content.decode()
    assert "2024-05-21" in page and "oops" in page  # the first rows
    assert 'name="col_2"' in page and "备注列" in page  # a select per column; unrecognised columns listed
    # map 钱 to the amount, run with --skip-invalid
    post = {
        "col_0": "customer_code",
        "col_1": "order_date",
        "col_2": "amount",
        "col_3": "note",
        "skip_invalid": "on",
    }
    resp = c.post(reverse("imports:start", args=[job.pk]), post)
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.errors_count == 1 and job.counts["orders_created"] == 2
    assert sorted(Order.objects.values_list("note", flat=True)) == ["x", "z"]
    page = c.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "oops" in page and "Orders created" in page
    csv_report = c.get(reverse("imports:report", args=[job.pk]))
    assert csv_report.status_code == 200 and csv_report["Content-Type"].startswith("text/csv")
    text = b"".join(csv_report.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].startswith("3,钱,oops,")
    xlsx = c.get(reverse("imports:report", args=[job.pk]) + "?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert [cell.value for cell in sheet[2]][:3] == [3, "钱", "oops"]
    # a finished job: the progress poll sends the page to the result
    poll = c.get(reverse("imports:progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert poll.status_code == 204 and poll["HX-Redirect"] == reverse("imports:detail", args=[job.pk])


def test_the_progress_bar_while_a_job_runs(org, coded):
    c = client(org.admin)
    upload(c)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, rows_total=None)
    from django.core.cache import cache

    cache.set(services.progress_key(job.pk), {"rows": 1234, "fraction": 0.42, "at": time.time()})
    page = c.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and "42%" in page
    part = c.get(reverse("imports:progress", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "1,234" in part and "42%" in part and "interrupted" not in part
    # a process killed long ago: the page says so
    cache.set(services.progress_key(job.pk), {"rows": 1234, "fraction": 0.42, "at": time.time() - 7200})
    part = c.get(reverse("imports:progress", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "interrupted" in part


def test_all_or_nothing_from_the_browser_and_the_page_in_chinese(org, coded):
    c = client(org.admin, "zh-hans")
    upload(c, name="订单.csv")
    job = ImportJob.objects.get()
    c.post(
        reverse("imports:start", args=[job.pk]),
        {"col_0": "customer_code", "col_1": "order_date", "col_2": "amount"},
    )
    job.refresh_from_db()
    assert job.state == JobState.FAILED and not Order.objects.exists()
    page = c.get(reverse("imports:detail", args=[job.pk])).content.decode()
    with translation.override("zh-hans"):
        assert "错误报告" in page and "导入" in page


def test_a_bad_upload_shows_the_problem_on_the_form(org):
    c = client(org.admin)
    resp = upload(c, content=b"\xff\xfe\x00garbage\x00\x81", name="x.xls")
    assert resp.status_code == 200 and not ImportJob.objects.exists()
    assert "xlsx" in resp.content.decode()
    # nothing recognised: the job waits for a mapping, and cannot start without one
    resp = upload(c, content=b"a,b\n1,2\n")
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and job.mapping == ["", ""]
    resp = c.post(reverse("imports:start", args=[job.pk]), {"col_0": "", "col_1": ""}, follow=True)
    assert "No column gives" in resp.content.decode()
    job.refresh_from_db()
    assert job.state == JobState.UPLOADED


def test_who_may_import_and_see_jobs_in_the_browser(org, coded):
    for user in (org.service, org.analyst, org.auditor):
        assert client(user).get(reverse("imports:index")).status_code == 403
    rep = client(org.rep1a)
    upload(rep)
    job = ImportJob.objects.get()
    assert rep.get(reverse("imports:detail", args=[job.pk])).status_code == 200
    assert client(org.admin).get(reverse("imports:detail", args=[job.pk])).status_code == 200
    for other in (org.rep1b, org.manager1, org.auditor):
        for name in ("detail", "progress", "report"):
            assert client(other).get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
        assert client(other).post(reverse("imports:start", args=[job.pk])).status_code == 404
    assert job.original_name not in client(org.rep1b).get(reverse("imports:index")).content.decode()
    assert job.original_name in client(org.admin).get(reverse("imports:index")).content.decode()


# --- the API --------------------------------------------------------------------------------------


def api_upload(api, content: bytes = CSV, **data):
    return api.client.post(
        "/api/v1/imports",
        {"kind": "orders", "file": SimpleUploadedFile("o.csv", content), **data},
        headers=api.headers,
    )


def test_api_upload_run_progress_and_errors(org, coded, api_as):
    api = api_as(org.admin)
    resp = api_upload(
        api,
        mapping='{"钱": "amount", "日期": "order_date", "客户编号": "customer_code"}',
        skip_invalid="true",
    )
    assert resp.status_code == 201, resp.content
    job = resp.json()
    assert job["state"] == "done" and job["counts"]["orders_created"] == 2 and job["errors_count"] == 1
    got = api.get(f"imports/{job['id']}").json()
    assert got["percent"] == 100 and got["mapping"] == ["customer_code", "order_date", "amount", ""]
    errors = api.get(f"imports/{job['id']}/errors").json()
    assert errors["count"] == 1 and errors["items"][0] == {
        "row": 3,
        "column": "钱",
        "value": "oops",
        "problem": errors["items"][0]["problem"],
    }
    assert api.get("imports").json()["count"] == 1


def test_api_two_steps_and_422(org, coded, api_as):
    api = api_as(org.admin)
    resp = api_upload(api, start="false")
    job = resp.json()
    assert resp.status_code == 201 and job["state"] == "uploaded"
    bad = api.post(f"imports/{job['id']}/start")
    assert bad.status_code == 422 and "mapping" in bad.json()["errors"]
    ok = api.post(f"imports/{job['id']}/start", {"mapping": ["customer_code", "order_date", "amount", ""]})
    assert ok.status_code == 200 and ok.json()["state"] == "failed"  # all or nothing: one bad row
    assert not Order.objects.exists()
    assert api_upload(api, kind="nonsense").status_code == 422
    missing = api.client.post("/api/v1/imports", {"kind": "orders"}, headers=api.headers)
    assert missing.status_code == 422 and any(k.startswith("file") for k in missing.json()["errors"])
    assert api_upload(api, mapping="{not json").status_code == 422
    assert api_upload(api, owner="nobody").json()["errors"]["owner"]


def test_api_jobs_are_seen_by_their_creator_and_administrators(org, coded, api_as):
    job = api_upload(api_as(org.rep1a), start="false").json()
    assert api_as(org.admin).get(f"imports/{job['id']}").status_code == 200
    for other in (org.rep1b, org.manager1):
        assert api_as(other).get(f"imports/{job['id']}").status_code == 404
        assert api_as(other).get(f"imports/{job['id']}/errors").status_code == 404
        assert api_as(other).post(f"imports/{job['id']}/start").status_code == 404
        assert api_as(other).get("imports").json()["count"] == 0
    assert api_upload(api_as(org.service)).status_code == 403
