"""An interrupted import leaves the database as it was: a real ``guanxi import`` process is killed
(SIGKILL) after its first batch has been written, and nothing of it is in the database; the same
import run to the end writes everything."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from guanxi.customers.models import Customer
from guanxi.imports.models import ImportJob
from guanxi.sales.models import Order, OrderLine, Product, PurchaseDay, PurchaseSummary

SCRIPT = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.config.settings")
from django.conf import settings
settings.DATABASES["default"]["NAME"] = os.environ["GX_TEST_DB_NAME"]
import django
django.setup()
from django.core.management import call_command
call_command("import", "orders", sys.argv[1], "--create-customers", "--batch-size", "200", "--no-progress")
"""


def state() -> dict:
    return {
        "customers": Customer.objects.count(),
        "history": Customer.history.count(),
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "products": Product.objects.count(),
        "days": PurchaseDay.objects.count(),
        "summaries": PurchaseSummary.objects.count(),
    }


def _child(path: Path, data_dir: Path, marker: Path | None) -> subprocess.Popen:
    env = {
        **os.environ,
        "GX_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "GUANXI_DATA_DIR": str(data_dir),
        "GUANXI_HUEY_IMMEDIATE": "1",
    }
    env.pop("GUANXI_IMPORT_TEST_PAUSE", None)
    if marker is not None:
        env["GUANXI_IMPORT_TEST_PAUSE"] = str(marker)
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_leaves_the_database_as_it_was(org, tmp_path):
    path = tmp_path / "orders.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["订单号", "客户编号", "客户名称", "下单日期", "产品", "数量", "单价", "金额"])
        for i in range(3000):
            n = i // 2  # two lines per order
            w.writerow(
                [
                    f"SO{n:05d}",
                    f"C{n % 700:04d}",
                    f"客户{n % 700}号",
                    f"2024-{n % 12 + 1:02d}-15",
                    f"产品{i % 9}",
                    "1",
                    "10",
                    "10",
                ]
            )
    before = state()
    marker = tmp_path / "paused"
    child = _child(path, tmp_path / "data", marker)
    deadline = time.monotonic() + 180
    while not marker.exists():
        if child.poll() is not None:
            pytest.fail("the import ended before it paused: " + child.stdout.read().decode(errors="replace"))
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("the import did not reach its first batch in time")
        time.sleep(0.05)
    assert int(marker.read_text()) == child.pid
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    connection.close()  # read afresh, as a new process would
    assert state() == before
    # the job's own row says it was running: it is the only trace of the attempt
    assert list(ImportJob.objects.values_list("state", flat=True)) == ["running"]

    # the same import, not interrupted, writes everything
    child = _child(path, tmp_path / "data", None)
    out, _err = child.communicate(timeout=300)
    assert child.returncode == 0, out.decode(errors="replace")
    after = state()
    assert after["orders"] == 1500 and after["lines"] == 3000 and after["customers"] == 700
    assert after["history"] == 700 and after["summaries"] == 700
