"""The public form's spam limits (C8): counted in the shared cache (Redis or a file cache, so
every gunicorn worker sees the same counts), per real client address — also behind reverse
proxies — and per customer link."""

from __future__ import annotations

import runpy

import pytest
from django.core.cache.backends.filebased import FileBasedCache
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from guanxi.service import ratelimit, services, views
from guanxi.service.models import Ticket

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"}}
DATA = {
    "kind": "inquiry",
    "subject": "s",
    "description": "d",
    "reporter_name": "n",
    "reporter_email": "a@b.cn",
}


@pytest.fixture(autouse=True)
def _isolated(settings):
    settings.CACHES = LOCMEM
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.cache import cache

    cache.clear()


def _req(remote="10.0.0.1", xff=None):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().post("/", **meta)


def test_the_settings_share_the_cache_between_workers(monkeypatch, tmp_path):
    import guanxi.config.settings as s

    monkeypatch.setenv("GUANXI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GUANXI_REDIS_URL", raising=False)
    monkeypatch.delenv("GUANXI_TRUSTED_PROXIES", raising=False)
    conf = runpy.run_path(s.__file__)
    assert conf["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": tmp_path.resolve() / "cache",
    }
    assert conf["GUANXI_TRUSTED_PROXIES"] == 0
    monkeypatch.setenv("GUANXI_REDIS_URL", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("GUANXI_TRUSTED_PROXIES", "2")
    conf = runpy.run_path(s.__file__)
    assert conf["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    }
    assert conf["GUANXI_TRUSTED_PROXIES"] == 2


def test_two_workers_on_one_file_cache_see_the_same_count(tmp_path):
    location = str(tmp_path / "cache")
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": location,
            }
        }
    ):
        for _ in range(3):
            assert ratelimit.hit("ip:198.51.100.7", 3)
        other_worker = FileBasedCache(location, {})
        assert other_worker.get("guanxi-service-rate:ip:198.51.100.7") == 3
        assert not ratelimit.hit("ip:198.51.100.7", 3)


def test_the_client_address_directly_and_behind_trusted_proxies(settings):
    settings.GUANXI_TRUSTED_PROXIES = 0
    assert (
        ratelimit.client_ip(_req("203.0.113.9", xff="1.2.3.4")) == "203.0.113.9"
    )  # a header alone is ignored
    settings.GUANXI_TRUSTED_PROXIES = 1  # nginx in front
    assert ratelimit.client_ip(_req(xff="203.0.113.9")) == "203.0.113.9"
    # what the client wrote itself is left of what our proxy appended: ignored
    assert ratelimit.client_ip(_req(xff="6.6.6.6, 203.0.113.9")) == "203.0.113.9"
    assert ratelimit.client_ip(_req()) == "10.0.0.1"
    settings.GUANXI_TRUSTED_PROXIES = 2  # a load balancer and nginx
    assert ratelimit.client_ip(_req("10.0.0.2", xff="6.6.6.6, 203.0.113.9, 10.0.0.1")) == "203.0.113.9"
    assert ratelimit.client_ip(_req("10.0.0.2", xff="10.0.0.1")) == "10.0.0.1"  # short header: left-most


def test_behind_a_proxy_each_client_has_its_own_limit_and_cannot_forge_another(world, settings):
    settings.GUANXI_TRUSTED_PROXIES = 1
    link = services.public_link(actor=world.org.service, customer_id=world.A.pk)
    url = reverse("service:public_form", args=[link.token])
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for i in range(views.PUBLIC_LIMIT):
        assert proxy.post(url, DATA, HTTP_X_FORWARDED_FOR=f"forged-{i}, 203.0.113.9").status_code == 200
    assert proxy.post(url, DATA, HTTP_X_FORWARDED_FOR="forged-x, 203.0.113.9").status_code == 429
    # another customer behind the same proxy is not blocked
    assert proxy.post(url, DATA, HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 200
    assert Ticket.objects.count() == views.PUBLIC_LIMIT + 1


def test_a_link_takes_a_limited_number_of_tickets_an_hour(world):
    link = services.public_link(actor=world.org.service, customer_id=world.A.pk)
    other = services.public_link(actor=world.org.service, customer_id=world.B.pk)
    url = reverse("service:public_form", args=[link.token])
    # a bot on the honeypot does not use up the customer's link
    for i in range(views.PUBLIC_LINK_LIMIT + 2):
        Client(REMOTE_ADDR=f"192.0.2.{i + 100}").post(url, {**DATA, "website": "x"})
    for i in range(views.PUBLIC_LINK_LIMIT):
        assert Client(REMOTE_ADDR=f"192.0.2.{i}").post(url, DATA).status_code == 200
    resp = Client(REMOTE_ADDR="192.0.2.250", HTTP_ACCEPT_LANGUAGE="en").post(url, DATA)
    assert resp.status_code == 429 and "this link" in resp.content.decode()
    assert Ticket.objects.count() == views.PUBLIC_LINK_LIMIT
    other_url = reverse("service:public_form", args=[other.token])
    assert Client(REMOTE_ADDR="192.0.2.251").post(other_url, DATA).status_code == 200
