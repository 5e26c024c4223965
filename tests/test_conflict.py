"""Lost updates cannot happen: a write must carry the version it read; a stale one is refused with
409 (API) / Conflict (services) and nothing of it is saved."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

import factories
from guanxi.core.errors import Conflict
from guanxi.customers import services
from guanxi.customers.models import Contact, Customer


def test_second_customer_patch_with_the_same_version_is_409(world, api_as):
    first, second = api_as(world.org.rep1a), api_as(world.org.manager1)
    v = first.get(f"customers/{world.A.pk}").json()["version"]
    assert second.get(f"customers/{world.A.pk}").json()["version"] == v
    history_before = Customer.history.filter(id=world.A.pk).count()

    resp = first.patch(f"customers/{world.A.pk}", json={"version": v, "city": "苏州"})
    assert resp.status_code == 200
    assert resp.json()["version"] == v + 1

    resp = second.patch(f"customers/{world.A.pk}", json={"version": v, "city": "无锡", "short_name": "华东"})
    assert resp.status_code == 409
    body = resp.json()
    assert body["current_version"] == v + 1
    assert body["detail"]
    a = Customer.objects.get(pk=world.A.pk)
    assert (a.city, a.short_name, a.version) == ("苏州", "", v + 1)
    assert Customer.history.filter(id=world.A.pk).count() == history_before + 1

    # with the current version the second user's change goes through
    resp = second.patch(f"customers/{world.A.pk}", json={"version": v + 1, "city": "无锡"})
    assert resp.status_code == 200
    assert resp.json()["version"] == v + 2


def test_put_and_delete_check_the_version_too(world, api_as):
    api = api_as(world.org.rep1a)
    v = world.A.version
    api.patch(f"customers/{world.A.pk}", json={"version": v, "city": "苏州"})
    resp = api.put(f"customers/{world.A.pk}", json={"version": v, "name": world.A.name, "city": "上海"})
    assert resp.status_code == 409
    resp = api.delete(f"customers/{world.A.pk}", params={"version": v})
    assert resp.status_code == 409
    assert resp.json()["current_version"] == v + 1
    assert Customer.objects.filter(pk=world.A.pk, city="苏州").exists()
    assert Contact.objects.filter(pk=world.A1.pk).exists()


def test_second_contact_patch_is_409(world, api_as):
    first, second = api_as(world.org.rep1a), api_as(world.org.rep2b)
    v = first.get(f"contacts/{world.A1.pk}").json()["version"]
    assert first.patch(f"contacts/{world.A1.pk}", json={"version": v, "title": "总经理"}).status_code == 200
    resp = second.patch(f"contacts/{world.A1.pk}", json={"version": v, "title": "副总", "interests": "网球"})
    assert resp.status_code == 409
    assert resp.json()["current_version"] == v + 1
    p = Contact.objects.get(pk=world.A1.pk)
    assert (p.title, p.interests, p.version) == ("总经理", "围棋和钓鱼", v + 1)
    resp = second.delete(f"contacts/{world.A1.pk}", params={"version": v})
    assert resp.status_code == 409
    assert Contact.objects.filter(pk=world.A1.pk).exists()


@pytest.mark.parametrize("path", ["customers/{A}", "contacts/{A1}"])
@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_write_without_version_is_422(path, method, world, api_as):
    url = path.format(A=world.A.pk, A1=world.A1.pk)
    body = {"city": "苏州"} if path.startswith("customers") else {"title": "总经理"}
    if method == "put" and path.startswith("customers"):
        body["name"] = world.A.name
    resp = getattr(api_as(world.org.rep1a), method)(url, json=body)
    assert resp.status_code == 422
    assert "version" in resp.json()["errors"]
    assert Customer.objects.get(pk=world.A.pk).version == 1
    assert Contact.objects.get(pk=world.A1.pk).version == 1


def test_services_raise_conflict(world):
    o = world.org
    factories.update_customer(o.rep1a, world.A, city="苏州")
    with pytest.raises(Conflict) as e:
        services.update_customer(actor=o.manager1, customer_id=world.A.pk, version=1, data={"city": "无锡"})
    assert e.value.current_version == 2
    with pytest.raises(Conflict):
        services.update_contact(actor=o.rep1a, contact_id=world.A1.pk, version=7, data={"title": "x"})
    # a version that is not a number is bad input, not a conflict
    from guanxi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as e:
        services.update_customer(actor=o.rep1a, customer_id=world.A.pk, version="abc", data={"city": "x"})
    assert "version" in e.value.errors


def race(clients, customer_id: int, version: int, cities: list[str]) -> list[tuple[object, str]]:
    """Each client PATCHes the customer with the same version, all released at the same moment."""
    barrier = threading.Barrier(len(clients))
    results: list[tuple[object, str]] = []
    lock = threading.Lock()

    def work(client, city):
        outcome: object = None
        try:
            barrier.wait(timeout=10)
            resp = client.patch(f"customers/{customer_id}", json={"version": version, "city": city})
            outcome = resp.status_code
        except Exception as e:  # noqa: BLE001 - reported in the caller's assertion
            outcome = repr(e)
        finally:
            with lock:
                results.append((outcome, city))
            connection.close()

    threads = [
        threading.Thread(target=work, args=(cl, city)) for cl, city in zip(clients, cities, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_racing_writers_only_one_wins(org, api_as):
    """Several threads PATCH the same customer with the same version at the same moment."""
    c = factories.make_customer(org.rep1a, city="北京")
    clients = [api_as(u) for u in (org.rep1a, org.manager1, org.admin, org.rep1a)]
    for round_no in range(3):
        version = Customer.objects.get(pk=c.pk).version
        history_before = Customer.history.filter(id=c.pk).count()
        results = race(clients, c.pk, version, [f"城市{round_no}-{i}" for i in range(len(clients))])
        codes = sorted((code for code, _ in results), key=str)
        assert codes == [200] + [409] * (len(clients) - 1), results
        winner = next(city for code, city in results if code == 200)
        fresh = Customer.objects.get(pk=c.pk)
        assert (fresh.city, fresh.version) == (winner, version + 1)
        assert Customer.history.filter(id=c.pk).count() == history_before + 1
