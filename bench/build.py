"""Build the benchmark database: 1,000,000 customers and 2,000,000 contacts through the real schema.

The schema comes from ``guanxi migrate`` on an empty data directory; rows are then bulk-loaded with
the ``sqlite3`` module (the ORM would take hours). Two worker processes generate disjoint halves
of the data into their own staging files (both cores busy); the main process merges them into the
real tables in primary-key order, recreates the indexes, writes the audit trail's "created"
records, switches to WAL and runs ANALYZE.

Search terms are computed by the write path's own functions (``guanxi.customers.search``), with one
shortcut: a customer name is city + trade name (字号) + industry word + company form, and the
pinyin of its core is composed from the cached pinyin of those parts instead of running pypinyin
over every whole name (~0.1 ms each). The build asserts, on a sample, that the composed terms are
identical to ``search.customer_terms`` / ``search.contact_terms`` of the same record.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import json
import multiprocessing as mp
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from stdnum.cn import uscc

from guanxi.customers import search

from . import pools

DB_NAME = "guanxi.sqlite3"
MARKER = "bench-build.json"

N_DEPARTMENTS = 20
TEAMS_PER_DEPARTMENT = 3
N_ACCOUNT_MANAGERS = 1000

ZIHAO = list(dict.fromkeys(ch for ch in pools.ZIHAO if "\u4e00" <= ch <= "\u9fff"))
SURNAMES = list(dict.fromkeys(pools.SURNAMES))
GIVEN = list(dict.fromkeys(pools.GIVEN))

CLASSIFICATION = {  # field → (values, weights)
    "lifecycle_stage": (["potential", "intent", "signed", "churned"], [30, 20, 45, 5]),
    "value_level": (["strategic", "important", "ordinary", "potential"], [3, 12, 50, 35]),
    "value_tier": (["high", "mid", "low"], [5, 25, 70]),
    "maintenance_tier": (["core", "important", "ordinary", "low_value"], [5, 15, 50, 30]),
    "deal_state": (["won", "negotiating", "potential"], [45, 15, 40]),
    "importance": (["high", "medium", "low"], [10, 40, 50]),
    "abc_class": (["A", "B", "C"], [10, 30, 60]),
    "prospect_grade": (["A", "B", "C", "D", "E"], [5, 10, 20, 45, 20]),
    "need_type": (["strategic", "ordinary", "special"], [10, 70, 20]),
    "strategic_type": (["breakthrough", "cultivate", "long_term", "risk_watch"], [10, 30, 50, 10]),
    "urgency": (["urgent", "soon", "not_urgent", "later"], [5, 20, 40, 35]),
    "membership_level": (["ordinary", "silver", "gold", "diamond"], [50, 25, 15, 10]),
    "need_match": (["full", "partial", "custom"], [40, 45, 15]),
    "acquisition_channel": (["market_research", "sales", "service", "web", "partner", "referral"],
                            [10, 40, 10, 15, 10, 15]),
}  # fmt: skip
NEEDS = ["降低采购成本", "提升生产效率", "数字化转型", "供应链稳定", "售后响应速度", "定制化方案", "账期灵活",
         "质量一致性", "本地化服务", "技术培训"]  # fmt: skip
PURCHASE_CHANNELS = ["直接采购", "经销商", "电商平台", "招投标", "集团集采"]
PAYMENT_TERMS = ["月结30天", "月结60天", "预付30%", "货到付款", "季度结算"]
COMPETITORS = ["", "", "某外资品牌", "本地同行", "行业龙头", "新进入者"]
CONCERNS = ["价格", "交期", "质量", "服务", "技术支持", "付款条件", "品牌", "长期合作"]
INTERESTS = ["", "", "高尔夫", "茶艺", "书法", "钓鱼", "羽毛球", "摄影", "登山", "围棋"]
EDUCATION = ["", "本科", "硕士", "MBA", "大专", "博士"]


# --- helpers ---------------------------------------------------------------------------------------


class Pick:
    """A fast weighted choice (``random.choices`` rebuilds its cumulative weights on every call)."""

    def __init__(self, rnd: random.Random, values, weights=None):
        self.values = list(values)
        weights = list(weights) if weights is not None else [1] * len(self.values)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]
        self.random = rnd.random

    def __call__(self):
        return self.values[bisect.bisect(self.cum, self.random() * self.total)]


def _pinyin_keys_from(syl: tuple[str, ...]) -> set[str]:
    """``search.pinyin_keys`` for an already computed syllable tuple (same rule, same limits)."""
    keys = set()
    full = initials = ""
    for s in reversed(syl):  # from each syllable on, built back to front
        full = s + full
        initials = s[0] + initials
        keys.add("@" + full[: search.PINYIN_FULL_MAX])
        keys.add("@" + initials[: search.PINYIN_INITIALS_MAX])
    return keys


def _suffix_of(name: str) -> str:
    for suffix in search._COMPANY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    return ""


def fast_customer_terms(c: SimpleNamespace) -> set[str]:
    """``search.customer_terms(c)`` with the pinyin composed from the parts of the name."""
    terms = search.text_keys(c.name) | search.text_keys(c.short_name)
    terms |= _pinyin_keys_from(search.syllables(c.city_part) + search.syllables(c.zihao)
                               + search.syllables(c.industry_word))  # fmt: skip
    terms |= _pinyin_keys_from(search.syllables(c.zihao) + search.syllables(c.short_industry))
    terms |= search.phone_keys(c.phone, c.phone_alt, c.fax)
    if c.email:
        terms.add("!" + c.email.lower())
    if c.credit_code:
        terms.add("&" + c.credit_code.upper())
    return terms


_contact_syllables: dict[str, tuple[str, ...]] = {}


def fast_contact_terms(p: SimpleNamespace) -> set[str]:
    """``search.contact_terms(p)``; the exact pinyin of each distinct person name is cached."""
    syl = _contact_syllables.get(p.name)
    if syl is None:
        syl = _contact_syllables[p.name] = search.syllables(p.name)
    terms = search.text_keys(p.name) | _pinyin_keys_from(syl)
    terms |= search.phone_keys(p.mobile, p.phone)
    if p.email:
        terms.add("!" + p.email.lower())
    return terms


def _dt(d: datetime.datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


def _credit_code(rnd: random.Random, serial: int) -> str:
    area = f"{rnd.randrange(110000, 660000):06d}"
    org = f"{(serial * 7919 + 104729) % 10**9:09d}"
    body = "91" + area + org[:8] + "0123456789ABCDEFGHJKLMNPQRTUWXY"[serial % 31]
    return body + uscc.calc_check_digit(body)


# --- the organisation ------------------------------------------------------------------------------


def org_plan(seed: int) -> dict:
    """Departments, teams, users and deputies as plain data (ids assigned here)."""
    rnd = random.Random(seed)
    numerals = "一二三四五六七八九十"
    regions = ["华北", "华东", "华南", "华中", "西南", "西北", "东北", "华东二区", "华南二区", "大湾区"]
    departments = []
    for d in range(1, N_DEPARTMENTS + 1):
        name = f"{regions[(d - 1) % len(regions)]}大客户{numerals[(d - 1) // len(regions)]}部"
        departments.append({"id": d, "name": name, "kind": "sales"})
    teams = []
    for d in departments:
        for t in range(TEAMS_PER_DEPARTMENT):
            teams.append({"id": len(teams) + 1, "name": f"{numerals[t]}组", "department_id": d["id"]})
    users = [{"id": 1, "username": "bench-admin", "role": "admin", "department_id": None, "team_id": None,
              "display_name": "系统管理员"}]  # fmt: skip
    for d in departments:
        users.append({"id": len(users) + 1, "username": f"manager{d['id']:02d}", "role": "manager",
                      "department_id": d["id"], "team_id": None,
                      "display_name": rnd.choice(SURNAMES) + rnd.choice(GIVEN) + "经理"})  # fmt: skip
    for i in range(N_ACCOUNT_MANAGERS):
        team = teams[i % len(teams)]
        users.append({"id": len(users) + 1, "username": f"am{i + 1:04d}", "role": "account_manager",
                      "department_id": team["department_id"], "team_id": team["id"],
                      "display_name": "".join(rnd.choice(x) for x in (SURNAMES, GIVEN, GIVEN))})  # fmt: skip
    ams = [u for u in users if u["role"] == "account_manager"]
    # book sizes vary: a few account managers carry several times the average
    weights = [min(rnd.paretovariate(2.5), 6.0) for _ in ams]
    deputies = []
    for _ in range(20):
        absent, deputy = rnd.sample(ams, 2)
        deputies.append({"absent_id": absent["id"], "deputy_id": deputy["id"]})
    return {"departments": departments, "teams": teams, "users": users, "am_ids": [u["id"] for u in ams],
            "am_weights": weights, "deputies": deputies}  # fmt: skip


def write_org(con: sqlite3.Connection, plan: dict, now: str) -> None:
    con.executemany(
        "INSERT INTO org_department (id, name, kind, duties) VALUES (?, ?, ?, '')",
        [(d["id"], d["name"], d["kind"]) for d in plan["departments"]],
    )
    con.executemany(
        "INSERT INTO org_team (id, name, department_id) VALUES (?, ?, ?)",
        [(t["id"], t["name"], t["department_id"]) for t in plan["teams"]],
    )
    con.executemany(
        "INSERT INTO org_user (id, password, last_login, is_superuser, username, first_name, last_name,"
        " email,"
        " is_staff, is_active, date_joined, role, display_name, phone, department_id, team_id)"
        " VALUES (?, '!bench-unusable', NULL, 0, ?, '', '', '', 0, 1, ?, ?, ?, '', ?, ?)",
        [(u["id"], u["username"], now, u["role"], u["display_name"], u["department_id"], u["team_id"])
         for u in plan["users"]],
    )  # fmt: skip
    today = datetime.date.today()
    con.executemany(
        "INSERT INTO org_deputy (absent_id, deputy_id, starts_on, ends_on, note) VALUES (?, ?, ?, ?, '')",
        [(d["absent_id"], d["deputy_id"], (today - datetime.timedelta(days=3)).isoformat(),
          (today + datetime.timedelta(days=30)).isoformat()) for d in plan["deputies"]],
    )  # fmt: skip


# --- one worker: a contiguous range of customers and their contacts --------------------------------


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]


def _stage_schema(stage: sqlite3.Connection, schema_db: Path) -> None:
    src = sqlite3.connect(schema_db)
    for table in ("customers_customer", "customers_contact", "customers_customer_account_team"):
        sql = src.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()[
            0
        ]
        stage.execute(sql)
    src.close()
    stage.execute(
        "CREATE TABLE terms_unsorted (term TEXT NOT NULL, kind TEXT NOT NULL, obj_id INTEGER NOT NULL)"
    )


def _given_names(n: int = 2000) -> list[str]:
    """A fixed list of given names (real ones concentrate too): every single character plus pairs."""
    rnd = random.Random(7)
    names = list(GIVEN)
    seen = set(names)
    while len(names) < n:
        g = rnd.choice(GIVEN) + rnd.choice(GIVEN)
        if g not in seen:
            seen.add(g)
            names.append(g)
    return names


GIVEN_NAMES = _given_names()


class Generator:
    """Rows of one worker's customers and contacts, drawn from one seeded random stream."""

    NOW = datetime.datetime(2025, 6, 30, 12, 0, 0)
    N_STAMPS = 20_000  # formatting a datetime costs more than the rest of a contact: draw from a pool

    def __init__(self, rnd: random.Random, plan: dict, ccols: list[str], pcols: list[str]):
        self.rnd, self.plan, self.ccols, self.pcols = rnd, plan, ccols, pcols
        stamps = sorted(
            self.NOW - datetime.timedelta(days=rnd.randrange(3650), seconds=rnd.randrange(86400))
            for _ in range(self.N_STAMPS)
        )
        self.stamps = [_dt(d) for d in stamps]
        self.users = {u["id"]: u for u in plan["users"]}
        self.city = Pick(rnd, pools.CITIES, [c[3] for c in pools.CITIES])
        self.zihao = Pick(rnd, ZIHAO)
        self.industry = Pick(rnd, pools.INDUSTRIES, [i[2] for i in pools.INDUSTRIES])
        self.form = Pick(rnd, [f[0] for f in pools.FORMS], [f[1] for f in pools.FORMS])
        self.owner = Pick(rnd, plan["am_ids"], plan["am_weights"])
        self.cls = [(f, Pick(rnd, v, w)) for f, (v, w) in CLASSIFICATION.items()]
        self.small = {name: Pick(rnd, values) for name, values in {
            "district": pools.DISTRICTS, "road": pools.ROADS, "need": NEEDS, "purchase": PURCHASE_CHANNELS,
            "payment": PAYMENT_TERMS, "competitor": COMPETITORS, "concern": CONCERNS, "interest": INTERESTS,
            "education": EDUCATION, "title": pools.TITLES, "cdept": pools.CONTACT_DEPARTMENTS,
            "surname": SURNAMES, "given": GIVEN_NAMES, "mprefix": pools.MOBILE_PREFIXES,
            "role": ["user", "influencer", "decider", "buyer", "gatekeeper"],
            "attitude": ["supporter", "neutral", "opponent"], "calendar": ["solar", "lunar"],
        }.items()}  # fmt: skip
        self.latin: dict[str, str] = {}

    def _latin(self, text: str) -> str:
        out = self.latin.get(text)
        if out is None:
            out = self.latin[text] = "".join("".join(search.syllables(ch)) for ch in text)
        return out

    def _landline(self, area: str) -> str:
        r = self.rnd.random()
        n = 8 if len(area) == 3 or r < 0.7 else 7
        return f"{area}-{int(r * 5) + 2}{self.rnd.randrange(10 ** (n - 1)):0{n - 1}d}"

    def _mobile(self) -> str:
        return self.small["mprefix"]() + f"{self.rnd.randrange(10**8):08d}"

    def customer(self, cid: int):
        rnd, sm = self.rnd, self.small
        province, city_part, area, _w = self.city()
        zihao = self.zihao() + self.zihao()
        industry_word, industry, _w = self.industry()
        form = self.form()
        name = city_part + zihao + industry_word + form
        if len(name) > 16:
            form = "有限公司"
            name = city_part + zihao + industry_word + form
        short_industry = industry_word[:2]
        short_name = zihao + short_industry
        owner = self.users[self.owner()]
        v = {f: pick() for f, pick in self.cls}
        revenue = round(rnd.lognormvariate(16.5, 1.6), 2)
        i = rnd.randrange(self.N_STAMPS)
        created, updated = self.stamps[i], self.stamps[rnd.randrange(i, self.N_STAMPS)]
        phone = self._landline(area)
        mobile = self._mobile()
        fax = self._landline(area) if rnd.random() < 0.6 else ""
        domain = self._latin(zihao) + f"{cid % 997}"
        email = f"info@{domain}.com.cn"
        credit = _credit_code(rnd, cid)
        employees = int(rnd.lognormvariate(4.5, 1.3)) + 1
        founded = datetime.date(1985, 1, 1) + datetime.timedelta(days=rnd.randrange(14000))
        need = sm["need"]()
        r = rnd.random()
        v.update({
            "id": cid, "code": f"C{cid:07d}", "kind": "company", "name": name, "short_name": short_name,
            "credit_code": credit,
            "industry": industry, "province": province, "city": city_part + "市",
            "address": f"{province}{city_part}市{sm['district']()}{sm['road']()}{int(r * 998) + 1}号",
            "employees": employees, "annual_revenue": revenue,
            "registered_capital": round(revenue * (0.05 + r * 0.3), 2),
            "management_structure": "董事会领导下的总经理负责制" if r < 0.3 else "",
            "founded_on": founded.isoformat(),
            "overview": f"{name}成立于{founded.year}年，员工约{employees}人，主营{industry_word}相关业务。",
            "phone": phone, "phone_alt": mobile, "fax": fax, "email": email,
            "website": f"https://www.{domain}.com.cn" if r < 0.5 else "",
            "purchase_channel": sm["purchase"](), "prices_paid": "", "social_relations": "",
            "customer_since": (founded + datetime.timedelta(days=int(r * 3000))).isoformat()
            if v["lifecycle_stage"] in ("signed", "churned") else None,
            "is_key_account": 1 if r < 0.05 else 0,
            "needs": need, "purchase_notes": "", "product_usage": "", "decision_process": "",
            "competitors": sm["competitor"](), "preferences": "", "our_advantages": "", "our_weaknesses": "",
            "credit_limit": round(revenue * 0.05, 2) if r < 0.5 else None,
            "payment_terms": sm["payment"](),
            "closable_amount": round(revenue * r * 0.02, 2),
            "business_need": need if v["prospect_grade"] in ("A", "B", "C") else "",
            "annual_purchases": round(revenue * (1 - r) * 0.05, 2),
            "annual_profit": round(revenue * (1 - r) * 0.005, 2),
            "is_benchmark": 1 if r > 0.99 else 0,
            "decision_chain_known": 1 if r > 0.6 else 0,
            "version": 1, "created_at": created, "updated_at": updated,
            "department_id": owner["department_id"], "owner_id": owner["id"], "team_id": owner["team_id"],
        })  # fmt: skip
        ns = SimpleNamespace(
            name=name,
            short_name=short_name,
            phone=phone,
            phone_alt=mobile,
            fax=fax,
            email=email,
            credit_code=credit,
            city_part=city_part,
            zihao=zihao,
            industry_word=industry_word,
            short_industry=short_industry,
            owner=owner,
        )
        return tuple([v[c] for c in self.ccols]), ns

    def contact(self, pid: int, cid: int, primary: bool):
        rnd, sm = self.rnd, self.small
        name = sm["surname"]() + sm["given"]()
        mobile = self._mobile()
        r = rnd.random()
        phone = f"0{int(r * 89) + 10}-{int(r * 7) + 2}{rnd.randrange(10**7):07d}" if r < 0.5 else ""
        email = f"{self._latin(name)}{pid % 1000}@example{cid % 50}.cn" if r > 0.4 else ""
        has_birthday = r < 0.4
        created = self.stamps[rnd.randrange(self.N_STAMPS)]
        v = {
            "id": pid, "name": name, "title": sm["title"](), "department": sm["cdept"](),
            "mobile": mobile, "phone": phone, "email": email, "wechat": f"wx_{pid}" if r > 0.5 else "",
            "decision_role": sm["role"](), "attitude": sm["attitude"](), "concerns": sm["concern"](),
            "is_primary": 1 if primary else 0,
            "birthday_calendar": sm["calendar"]() if has_birthday else "",
            "birth_year": 1960 + int(r * 100) if has_birthday else None,
            "birthday_month": rnd.randrange(1, 13) if has_birthday else None,
            "birthday_day": rnd.randrange(1, 29) if has_birthday else None,
            "birthday_leap_month": 0, "anniversaries": "", "personality": "", "interests": sm["interest"](),
            "family": "", "education": sm["education"](), "career": "", "notes": "",
            "version": 1, "created_at": created, "updated_at": created, "customer_id": cid,
        }  # fmt: skip
        return tuple([v[c] for c in self.pcols]), SimpleNamespace(
            name=name, mobile=mobile, phone=phone, email=email
        )


def run_worker(job: dict) -> dict:
    """Generate one range of customers (+ contacts, account teams, terms) into a staging file."""
    t0 = time.time()
    rnd = random.Random(job["seed"])
    plan = job["plan"]
    stage = sqlite3.connect(job["stage"], isolation_level=None)
    for p in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY"):
        stage.execute("PRAGMA " + p)
    _stage_schema(stage, Path(job["schema_db"]))
    ccols, pcols = job["customer_columns"], job["contact_columns"]
    c_sql = f"INSERT INTO customers_customer VALUES ({', '.join('?' * len(ccols))})"
    p_sql = f"INSERT INTO customers_contact VALUES ({', '.join('?' * len(pcols))})"
    t_sql = "INSERT INTO terms_unsorted VALUES (?, ?, ?)"
    am_by_dept: dict[int, list[int]] = {}
    for u in plan["users"]:
        if u["role"] == "account_manager":
            am_by_dept.setdefault(u["department_id"], []).append(u["id"])
    counts = job["contact_counts"]
    pid = job["contact_start"]
    verify_every = job["verify_every"]
    c_rows, p_rows, t_rows, team_rows = [], [], [], []
    checked = {"customers": 0, "contacts": 0}
    team_id = job["team_row_start"]
    stage.execute("BEGIN")
    gen = Generator(rnd, plan, ccols, pcols)
    start, stop = job["customer_range"]
    for k, cid in enumerate(range(start, stop)):
        row, ns = gen.customer(cid)
        c_rows.append(row)
        terms = fast_customer_terms(ns)
        if k % verify_every == 0:
            real = search.customer_terms(ns)
            assert terms == real, f"composed terms differ for {ns.name}: {terms ^ real}"
            checked["customers"] += 1
        t_rows.extend((t, "c", cid) for t in terms)
        if rnd.random() < 0.10:
            mates = am_by_dept[ns.owner["department_id"]]
            for uid in set(rnd.sample(mates, rnd.choice((1, 1, 2)))) - {ns.owner["id"]}:
                team_rows.append((team_id, cid, uid))
                team_id += 1
        for j in range(counts[k]):
            prow, pns = gen.contact(pid, cid, j == 0)
            p_rows.append(prow)
            pterms = fast_contact_terms(pns)
            if pid % verify_every == 0:
                real = search.contact_terms(pns)
                assert pterms == real, f"contact terms differ for {pns.name}: {pterms ^ real}"
                checked["contacts"] += 1
            t_rows.extend((t, "p", pid) for t in pterms)
            pid += 1
        if len(t_rows) > 400_000:
            stage.executemany(c_sql, c_rows)
            stage.executemany(p_sql, p_rows)
            stage.executemany(t_sql, t_rows)
            stage.executemany("INSERT INTO customers_customer_account_team VALUES (?, ?, ?)", team_rows)
            c_rows, p_rows, t_rows, team_rows = [], [], [], []
    stage.executemany(c_sql, c_rows)
    stage.executemany(p_sql, p_rows)
    stage.executemany(t_sql, t_rows)
    stage.executemany("INSERT INTO customers_customer_account_team VALUES (?, ?, ?)", team_rows)
    stage.execute("COMMIT")
    t_gen = time.time() - t0
    # sort the terms here, in parallel with the other worker; the main process then merges
    stage.execute("PRAGMA threads=1")
    stage.execute("CREATE TABLE terms (term TEXT NOT NULL, kind TEXT NOT NULL, obj_id INTEGER NOT NULL,"
                  " PRIMARY KEY (term, kind, obj_id)) WITHOUT ROWID")  # fmt: skip
    stage.execute("BEGIN")
    stage.execute(
        "INSERT INTO terms SELECT term, kind, obj_id FROM terms_unsorted ORDER BY term, kind, obj_id"
    )
    stage.execute("DROP TABLE terms_unsorted")
    stage.execute("COMMIT")
    n_terms = stage.execute("SELECT count(*) FROM terms").fetchone()[0]
    stage.close()
    return {"seconds_generate": round(t_gen, 1), "seconds_total": round(time.time() - t0, 1),
            "terms": n_terms, "checked": checked, "last_contact_id": pid - 1,
            "last_team_row": team_id - 1}  # fmt: skip


# --- the whole build -------------------------------------------------------------------------------


def _log(msg: str, t0: float) -> None:
    print(f"[build {time.time() - t0:6.1f}s] {msg}", flush=True)


def _secondary_indexes(con: sqlite3.Connection, tables: list[str]) -> list[tuple[str, str]]:
    return [
        (name, sql)
        for name, sql in con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({','.join('?' * len(tables))})",
            tables,
        )
    ]


def build(target: Path, *, customers: int = 1_000_000, contacts: int = 2_000_000, seed: int = 20250630,
          workers: int = 2, verify_sample: int = 20_000) -> dict:  # fmt: skip
    """Build the database in ``target`` (a data directory); returns the build's facts."""
    t0 = time.time()
    target = Path(target)
    work = target.with_name(target.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / DB_NAME

    env = {**os.environ, "GUANXI_DATA_DIR": str(work), "DJANGO_SETTINGS_MODULE": "guanxi.config.settings"}
    subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"], env=env, check=True)
    _log("schema migrated", t0)

    plan = org_plan(seed)
    con = sqlite3.connect(db, isolation_level=None)
    for p in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-2000000", "temp_store=MEMORY",
              "foreign_keys=OFF", "threads=2"):  # fmt: skip
        con.execute("PRAGMA " + p)
    now = _dt(datetime.datetime(2025, 6, 30, 12, 0, 0))
    con.execute("BEGIN")
    write_org(con, plan, now)
    con.execute("COMMIT")
    ccols = _columns(con, "customers_customer")
    pcols = _columns(con, "customers_contact")

    rnd = random.Random(seed + 1)
    counts = rnd.choices([0, 1, 2, 3, 4], [5, 25, 40, 20, 10], k=customers)
    diff = contacts - sum(counts)
    while diff:  # adjust to exactly ``contacts``
        i = rnd.randrange(customers)
        if diff > 0 and counts[i] < 6:
            counts[i] += 1
            diff -= 1
        elif diff < 0 and counts[i] > 0:
            counts[i] -= 1
            diff += 1
    jobs = []
    bounds = [1 + customers * w // workers for w in range(workers + 1)]
    contact_start, team_start = 1, 1
    for w in range(workers):
        a, b = bounds[w], bounds[w + 1]
        jobs.append({
            "seed": seed * 100 + w, "plan": plan, "stage": str(work / f"stage{w}.sqlite3"),
            "schema_db": str(db),
            "customer_range": (a, b), "contact_counts": counts[a - 1 : b - 1], "contact_start": contact_start,
            "team_row_start": team_start + w * customers,  # disjoint id ranges for account-team rows
            "customer_columns": ccols, "contact_columns": pcols,
            "verify_every": max(1, customers // max(1, verify_sample)),
        })  # fmt: skip
        contact_start += sum(counts[a - 1 : b - 1])
    _log(f"generating in {workers} worker processes", t0)
    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        results = pool.map(run_worker, jobs)
    for w, r in enumerate(results):
        _log(f"worker {w}: {r}", t0)
    checked = {k: sum(r["checked"][k] for r in results) for k in ("customers", "contacts")}

    # merge into the real tables: drop secondary indexes, append in key order, recreate them
    tables = ["customers_customer", "customers_contact", "customers_customer_account_team",
              "customers_historicalcustomer", "customers_historicalcontact"]  # fmt: skip
    indexes = _secondary_indexes(con, tables)
    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')
    for w in range(workers):
        con.execute(f"ATTACH DATABASE ? AS s{w}", (jobs[w]["stage"],))
    con.execute("BEGIN")
    for table in ("customers_customer", "customers_contact", "customers_customer_account_team"):
        for w in range(workers):
            con.execute(f"INSERT INTO main.{table} SELECT * FROM s{w}.{table} ORDER BY id")
        _log(f"{table} merged", t0)
    union = " UNION ALL ".join(f"SELECT term, kind, obj_id FROM s{w}.terms" for w in range(workers))
    con.execute(f"INSERT INTO customers_searchterm (term, kind, obj_id) {union} ORDER BY 1, 2, 3")
    _log("customers_searchterm merged", t0)
    # the audit trail's "created" record of every customer and contact, as the services write it
    for model, hist in (("customers_customer", "customers_historicalcustomer"),
                        ("customers_contact", "customers_historicalcontact")):  # fmt: skip
        cols = [c for c in _columns(con, model) if c != "updated_at"]
        hcols = set(_columns(con, hist))
        cols = [c for c in cols if c in hcols]
        collist = ", ".join(f'"{c}"' for c in cols)
        who = "owner_id" if model == "customers_customer" else "NULL"  # the owner created the customer
        con.execute(
            f"INSERT INTO {hist} ({collist}, history_date, history_change_reason, history_type,"
            f" history_user_id) SELECT {collist}, created_at, NULL, '+', {who} FROM {model}"
        )
        _log(f"{hist} written", t0)
    con.execute("COMMIT")
    for w in range(workers):
        con.execute(f"DETACH DATABASE s{w}")
        os.remove(jobs[w]["stage"])
    con.execute("BEGIN")
    for _name, sql in indexes:
        con.execute(sql)
    con.execute("COMMIT")
    _log(f"{len(indexes)} indexes recreated", t0)
    con.execute("ANALYZE")
    _log("ANALYZE done", t0)
    con.execute("PRAGMA journal_mode=WAL")
    counts_db = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("customers_customer", "customers_contact", "customers_customer_account_team",
                  "customers_searchterm", "org_user")
    }  # fmt: skip
    problems = con.execute("PRAGMA foreign_key_check").fetchall()[:5]
    assert not problems, f"foreign keys broken: {problems}"
    con.close()
    seconds = time.time() - t0
    facts = {
        "built_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "seed": seed,
        "build_seconds": round(seconds, 1),
        "rows": counts_db,
        "terms_checked_against_write_path": checked,
        "db_bytes": db.stat().st_size,
        "workers": results,
    }
    (work / MARKER).write_text(json.dumps(facts, indent=2, ensure_ascii=False))
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    _log(f"done: {counts_db}, {facts['db_bytes'] / 1e9:.2f} GB", t0)
    return facts


def load_facts(target: Path) -> dict | None:
    marker = Path(target) / MARKER
    if not marker.exists() or not (Path(target) / DB_NAME).exists():
        return None
    return json.loads(marker.read_text())
