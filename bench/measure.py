"""The timed part of the benchmark: cases × roles × surfaces through django.test.Client."""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from guanxi.customers import search, selectors, services
from guanxi.customers.models import Contact, Customer
from guanxi.org.models import ApiToken, Deputy, Role, User
from guanxi.org.services import create_token

GOAL_MS = 100.0
# what the list page's own search box, sort links and pager send (the table is swapped in place)
HTMX_HEADERS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "customer-results"}
COMMON_BIGRAMS = ["科技", "贸易", "实业", "电子", "管理", "工程", "商贸"]
PROVINCE_WEIGHTS = None  # filled from the data


@dataclass
class Actor:
    role: str
    user: User
    client: Client
    api_headers: dict[str, str]
    samples: list[dict]
    scope_count: int
    contacts: list[dict] = field(default_factory=list)


@dataclass
class Case:
    name: str
    title: str
    kind: str  # list / detail
    params: Callable[[Actor, random.Random], Any]


def _name_parts(c: dict) -> dict:
    """City, 字号 and the rest of a generated name (city + 字号 + industry word + company form)."""
    zihao = c["short_name"][:2]
    i = c["name"].find(zihao)
    return {"city": c["name"][:i], "zihao": zihao, "rest": c["name"][i + 2 :]}


def _search_core(name: str) -> str:
    for suffix in search._COMPANY_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def p_initials(a: Actor, r: random.Random) -> dict:
    c = r.choice(a.samples)
    syl = search.syllables(_search_core(c["name"]))
    n = r.choice((3, 4))
    start = r.randrange(0, max(1, len(syl) - n + 1))
    return {"q": "".join(s[0] for s in syl[start : start + n])}


def p_pinyin(a: Actor, r: random.Random) -> dict:
    c = r.choice(a.samples)
    parts = _name_parts(c)
    syl = search.syllables(parts["zihao"])
    extra = search.syllables(parts["rest"])[:1] if r.random() < 0.5 else ()
    return {"q": "".join(syl + tuple(extra))}


def p_4char(a: Actor, r: random.Random) -> dict:
    c = r.choice(a.samples)
    parts = _name_parts(c)
    if r.random() < 0.5 and len(parts["city"]) >= 2:
        return {"q": parts["city"][-2:] + parts["zihao"]}
    return {"q": c["short_name"][:4]}


def p_last4(a: Actor, r: random.Random) -> dict:
    c = r.choice(a.samples)
    phone = r.choice([p for p in (c["phone"], c["phone_alt"]) if p])
    return {"q": search.phone_digits(phone)[-4:]} if hasattr(search, "phone_digits") else {"q": phone[-4:]}


def p_contact(a: Actor, r: random.Random) -> dict:
    p = r.choice(a.contacts)
    kind = r.random()
    if kind < 0.5:
        return {"q": p["name"]}
    if kind < 0.75:
        return {"q": p["mobile"]}
    return {"q": p["mobile"][-4:]}


def p_global(a: Actor, r: random.Random) -> dict:
    return r.choice([p_contact, p_4char, p_initials, p_last4])(a, r)


CASES = [
    Case("list_name", "list, first page, sorted by name", "list",
         lambda a, r: {"sort": "name", "limit": r.choice((25, 50))}),
    Case("list_revenue_desc", "list, first page, sorted by -annual_revenue", "list",
         lambda a, r: {"sort": "-annual_revenue", "limit": r.choice((25, 50))}),
    Case("list_filtered", "list, value_level + province filter, by name", "list",
         lambda a, r: {"value_level": r.choice(["strategic", "important", "ordinary", "potential"]),
                       "province": r.choice(a.samples)["province"], "sort": "name", "limit": 50}),
    Case("list_deep", "list, deep page (offset ≈ half the scope; 500,000 for admin)", "list",
         lambda a, r: {"sort": "name", "limit": 50, "offset": int(a.scope_count * r.uniform(0.45, 0.55))}),
    Case("search_2char", "search: 2-character 字号", "list",
         lambda a, r: {"q": _name_parts(r.choice(a.samples))["zihao"]}),
    Case("search_common", "search: very common bigram (科技, 贸易, …)", "list",
         lambda a, r: {"q": r.choice(COMMON_BIGRAMS)}),
    Case("search_4char", "search: 4-character name part", "list", p_4char),
    Case("search_initials", "search: pinyin initials (3–4 letters)", "list", p_initials),
    Case("search_pinyin", "search: full pinyin prefix", "list", p_pinyin),
    Case("search_mobile", "search: full mobile number", "list",
         lambda a, r: {"q": r.choice(a.samples)["phone_alt"]}),
    Case("search_last4", "search: last 4 digits of a phone", "list", p_last4),
    Case("card", "customer card (detail)", "detail", lambda a, r: r.choice(a.samples)["id"]),
    Case("search_city", "stress: a city bigram in 5% of names (北京, 上海, …)", "list",
         lambda a, r: {"q": r.choice(["北京", "上海", "深圳", "广州", "苏州", "杭州"])}),
    Case("search_2letters", "stress: 2 pinyin initials (search-as-you-type)", "list",
         lambda a, r: {"q": p_initials(a, r)["q"][:2]}),
    Case("contact_search", "contacts search (person name, mobile, last 4)", "contacts", p_contact),
    Case("global_search", "search page: customers + contacts", "global", p_global),
]  # fmt: skip


# --- setup -----------------------------------------------------------------------------------------


def _samples(user: User, rnd: random.Random, n: int = 400) -> tuple[list[dict], int]:
    """Random customers the user can see, and how many they can see."""
    cols = ["id", "name", "short_name", "phone", "phone_alt", "province"]
    if user.is_admin:
        top = Customer.objects.order_by("-id").values_list("id", flat=True).first()
        ids = rnd.sample(range(1, top + 1), n)
        count = Customer.objects.count()
    else:
        all_ids = list(selectors.customer_queryset(user).values_list("id", flat=True))
        count = len(all_ids)
        ids = rnd.sample(all_ids, min(n, len(all_ids)))
    rows = list(Customer.objects.filter(pk__in=ids).values(*cols))
    return rows, count


def setup_actors(roles: list[str], rnd: random.Random) -> list[Actor]:
    users: list[tuple[str, User]] = []
    if "admin" in roles:
        users.append(("admin", User.objects.get(username="bench-admin")))
    if "manager" in roles:
        managers = list(User.objects.filter(role=Role.MANAGER, username__startswith="manager").order_by("id"))
        users += [("manager", u) for u in rnd.sample(managers, 3)]
    if "account_manager" in roles:
        ams = list(User.objects.filter(role=Role.ACCOUNT_MANAGER).order_by("id"))
        deputies = list(Deputy.objects.values_list("deputy_id", flat=True))
        picked = rnd.sample(ams, 4) + [User.objects.get(pk=rnd.choice(deputies))]
        users += [("account_manager", u) for u in picked]
    actors = []
    for role, user in users:
        client = Client()
        client.force_login(user)
        _token, key = create_token(user=user, name="bench")
        samples, count = _samples(user, rnd)
        contacts = list(
            Contact.objects.filter(customer_id__in=[c["id"] for c in samples[:100]]).values(
                "id", "name", "mobile"
            )
        )
        actors.append(
            Actor(role, user, client, {"HTTP_AUTHORIZATION": f"Bearer {key}"}, samples, count, contacts)
        )
    return actors


def cleanup_tokens() -> None:
    ApiToken.objects.filter(name="bench").delete()


def _url(surface: str, case: Case, params: Any) -> str | None:
    if surface == "htmx":
        return _url("ui", case, params) if case.kind == "list" else None
    if case.kind == "contacts":
        return "/api/v1/contacts?" + urlencode(params) if surface == "api" else None
    if case.kind == "global":
        if surface == "api":
            return None
        try:
            return reverse("customers:search") + "?" + urlencode(params)
        except NoReverseMatch:
            return None
    if surface == "api":
        if case.kind == "detail":
            return f"/api/v1/customers/{params}"
        return "/api/v1/customers?" + urlencode(params)
    try:
        if case.kind == "detail":
            return reverse("customers:detail", args=[params])
        return reverse("customers:list") + "?" + urlencode(params)
    except NoReverseMatch:
        return None


# --- indexes: the database gets exactly the indexes models.py declares -----------------------------


SYNCED = "bench_synced_index"


def _index_columns(cur, name: str) -> list[str]:
    cur.execute(f"PRAGMA index_info({connection.ops.quote_name(name)})")
    return [r[2] for r in cur.fetchall()]


def unsync_indexes() -> None:
    """Before migrating: put the indexes sync_indexes changed back the way the applied migrations
    left them, so that a migration that now makes the same change finds what it expects."""
    from django.db.migrations.executor import MigrationExecutor

    state = MigrationExecutor(connection)._create_project_state(with_applied_migrations=True)
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {SYNCED} (name TEXT PRIMARY KEY)")
        cur.execute(f"SELECT name FROM {SYNCED}")
        names = {r[0] for r in cur.fetchall()}
        if not names:
            return
        for label in ("Customer", "Contact"):
            model = state.apps.get_model("customers", label)
            for idx in model._meta.indexes:
                if idx.name not in names:
                    continue
                names.discard(idx.name)
                want = [model._meta.get_field(f.lstrip("-")).column for f in idx.fields]
                if _index_columns(cur, idx.name) != want:
                    cur.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(idx.name)}")
                    with connection.schema_editor() as editor:
                        editor.add_index(model, idx)
        for name in names:  # made by sync_indexes, unknown to the applied migrations
            cur.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
        cur.execute(f"DELETE FROM {SYNCED}")


def sync_indexes() -> list[str]:
    """Create (or redefine) the indexes models.py declares on Customer and Contact that the bench
    database lacks, so that the measurement reflects models.py even before its migration exists."""
    changed = []
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {SYNCED} (name TEXT PRIMARY KEY)")
        for model in (Customer, Contact):
            table = model._meta.db_table
            for idx in model._meta.indexes:
                want = [model._meta.get_field(f.lstrip("-")).column for f in idx.fields]
                have = _index_columns(cur, idx.name)
                if have == want:
                    continue
                with connection.schema_editor() as editor:
                    if have:
                        editor.remove_index(model, idx)
                    editor.add_index(model, idx)
                cur.execute(f"INSERT OR IGNORE INTO {SYNCED} (name) VALUES (%s)", [idx.name])
                changed.append(f"{table}.{idx.name}({', '.join(want)})")
        if changed:
            cur.execute("ANALYZE")
    return changed


# --- the sanity check --------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def sanity_check() -> dict:
    """Write 张三丰 through the services, find it by 'zsf', '张三', its phone's last 4 digits; roll back."""
    admin = User.objects.get(username="bench-admin")
    found: dict[str, bool] = {}
    try:
        with transaction.atomic():
            c = services.create_customer(
                actor=admin,
                data={"name": "张三丰", "kind": "individual", "industry": "F", "province": "湖北",
                      "phone": "13912347788", "owner": admin.pk},
            )  # fmt: skip
            for q in ("zsf", "张三", "张三丰", "zhangsanfeng", "sanfeng", "7788", "13912347788"):
                found[q] = selectors.customer_queryset(admin, q=q).filter(pk=c.pk).exists()
            page = selectors.customer_list(admin, q="张三丰")
            found["张三丰 on the first page"] = any(i.pk == c.pk for i in page.items)
            raise _Rollback()
    except _Rollback:
        pass
    assert all(found.values()), f"search sanity check failed: {found}"
    return found


# --- the chosen plans return the same pages as the plain ones ----------------------------------------


def verify_plans() -> dict:
    """The pages customer_list returns with its chosen plans (probes, forced index walks, budgets)
    must equal those of the plain way (every match listed, the database's own plan)."""
    users = [User.objects.get(username="bench-admin"),
             User.objects.filter(role=Role.MANAGER).order_by("id").first(),
             User.objects.filter(role=Role.ACCOUNT_MANAGER).order_by("id")[7]]  # fmt: skip
    cases = [
        {"q": "科技"},
        {"q": "北京"},
        {"q": "华信科技"},
        {"q": "hxkj"},
        {"q": "wlkj"},
        {"sort": "-annual_revenue"},
        {"sort": "value_level", "offset": 1000},
        {"filters": {"value_level": "strategic", "province": "广东"}},
        {"filters": {"province": "浙江"}, "sort": "-updated_at"},
        {"q": "科技", "filters": {"lifecycle_stage": "signed"}, "sort": "-annual_revenue"},
    ]
    checked = 0
    for user in users:
        for kw in cases:
            page = selectors.customer_list(user, limit=50, **kw)
            saved = selectors.SEARCH_LIST_MAX, selectors._SORT_INDEX
            # every search as an id list (no probes), no index forced: the database's own plan
            selectors.SEARCH_LIST_MAX, selectors._SORT_INDEX = 10**7, {}
            try:
                plain = selectors.customer_list(user, limit=50, **kw)
            finally:
                selectors.SEARCH_LIST_MAX, selectors._SORT_INDEX = saved
            got, want = [c.pk for c in page.items], [c.pk for c in plain.items]
            assert got == want, f"{user.username} {kw}: {got[:5]}… != {want[:5]}…"
            if page.count_exact and plain.count_exact:
                assert page.count == plain.count, f"{user.username} {kw}: count {page.count} != {plain.count}"
            checked += 1
    return {"pages_identical": checked}


# --- measuring ---------------------------------------------------------------------------------------


class QueryLog:
    def __init__(self):
        self.current: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.current.append(((time.perf_counter() - t0) * 1000, sql % tuple(repr(p) for p in params)
                                 if params and not many else sql))  # fmt: skip


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def run(*, samples: int, only: list[str], roles: list[str], surfaces: list[str], seed: int,
        show_queries: bool = False) -> list[dict]:  # fmt: skip
    rnd = random.Random(seed)
    actors = setup_actors(roles, rnd)
    by_role: dict[str, list[Actor]] = defaultdict(list)
    for a in actors:
        by_role[a.role].append(a)
    for role, acts in by_role.items():
        print(f"  {role}: {', '.join(f'{a.user.username} ({a.scope_count:,} customers)' for a in acts)}")
    qlog = QueryLog()
    results = []
    try:
        with connection.execute_wrapper(qlog):
            for case in CASES:
                if only and case.name not in only:
                    continue
                for role in roles:
                    for surface in surfaces:
                        res = _measure(case, by_role[role], surface, samples, rnd, qlog, show_queries)
                        if res is None:
                            continue
                        res.update({"case": case.name, "title": case.title, "role": role, "surface": surface})
                        results.append(res)
                        matches = res.get("count_median")
                        print(
                            f"  {case.name:<18} {role:<16} {surface:<4} p50 {res['p50_ms']:7.1f}"
                            f"  p95 {res['p95_ms']:7.1f}  {'ok' if res['pass'] else 'MISS'}"
                            + (f"  (matches: median {matches:,})" if matches is not None else ""),
                            flush=True,
                        )
    finally:
        cleanup_tokens()
    return results


def _measure(case: Case, actors: list[Actor], surface: str, n: int, rnd: random.Random, qlog: QueryLog,
             show_queries: bool) -> dict | None:  # fmt: skip
    probe = _url(surface, case, case.params(actors[0], rnd))
    if probe is None:
        return None
    times: list[float] = []
    counts: list[int] = []
    errors: list[str] = []
    slow: list[tuple[float, str, str]] = []
    for i in range(n + 5):  # the first 5 warm up
        actor = actors[i % len(actors)]
        params = case.params(actor, rnd)
        url = _url(surface, case, params)
        headers = {"api": actor.api_headers, "htmx": HTMX_HEADERS}.get(surface, {})
        client = Client() if surface == "api" else actor.client
        qlog.current = []
        t0 = time.perf_counter()
        resp = client.get(url, **headers)
        ms = (time.perf_counter() - t0) * 1000
        if resp.status_code != 200:
            errors.append(f"{resp.status_code} {url}")
            continue
        if i < 5:
            continue
        times.append(ms)
        if surface == "api" and case.kind in ("list", "contacts"):
            counts.append(json.loads(resp.content)["count"])
        if show_queries:
            top = max(qlog.current, default=(0.0, ""))
            slow.append((ms, url, f"{top[0]:.1f} ms: {top[1][:600]}"))
    if not times:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "n": 0, "pass": False, "errors": errors[:5]}
    p95 = _pct(times, 95)
    out = {
        "n": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(times), 1),
        "mean_ms": round(statistics.fmean(times), 1),
        "pass": p95 < GOAL_MS and not errors,
        "errors": errors[:5],
        "count_median": int(statistics.median(counts)) if counts else None,
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine skews p95
    }
    if show_queries:
        slow.sort(reverse=True)
        for ms, url, q in slow[:3]:
            print(f"      {ms:7.1f} ms {url}\n          slowest query {q}")
    return out


def print_table(results: list[dict]) -> None:
    print()
    head = f"{'case':<18} {'role':<16} {'surface':<7} {'p50 ms':>8} {'p95 ms':>8}  {'goal':<12} result"
    print(head)
    print("-" * len(head))
    for r in results:
        verdict = "pass" if r["pass"] else ("FAIL" + (f" ({r['errors'][0]})" if r["errors"] else ""))
        print(
            f"{r['case']:<18} {r['role']:<16} {r['surface']:<7} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}  "
            f"{'p95 < 100 ms':<12} {verdict}"
        )
    print()
