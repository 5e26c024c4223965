"""Search that a Chinese sales team expects, in time on a million customers.

A plain ``LIKE '%…%'`` scan cannot hold p95 < 100 ms at 1M rows, and trigram full-text indexes
silently miss the two-character terms Chinese users type most (see shared/PERFORMANCE.md). So each
customer and contact writes a handful of *terms* into one table, keyed ``(term, kind, obj_id)``
(``WITHOUT ROWID`` on SQLite, a B-tree on PostgreSQL), and a query becomes index range lookups:

- every two-character window (bigram) of the name and short name, plus its last character, so
  any substring of 2+ characters is an intersection of bigram postings, checked with ``LIKE``;
  one character is a prefix range over the bigrams;
- pinyin, full and initials, from every syllable on (``@zhangsanfeng…``, ``@zsf…``), so ``zsf``
  finds 张三丰 and ``sanfeng`` finds it too, by prefix;
- phone digits forwards (``#``) and reversed (``$``), so a number is found by its start or its
  last digits; email (``!``) and credit code (``&``) by prefix.

Terms are computed once, when a record is written (pypinyin costs ~0.2 ms a name), never at query
time. ``rebuild()`` recomputes the whole table (``guanxi search rebuild``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection

from .validators import phone_digits

TABLE = "customers_searchterm"
KIND_CUSTOMER = "c"
KIND_CONTACT = "p"
TOP = "\U0010ffff"
PINYIN_FULL_MAX = 24
PINYIN_INITIALS_MAX = 10

_STRIP = re.compile(r"[\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")


def normalize(text: str) -> str:
    """Lower-case, full-width to half-width, punctuation and spaces removed."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or "").lower())


@lru_cache(maxsize=65536)
def syllables(text: str) -> tuple[str, ...]:
    """Pinyin syllables of ``text`` (normalised); a run of Latin letters or digits is one token."""
    out: list[str] = []
    # imported here: loading pypinyin's dictionaries takes half a second, which every command
    # (and every worker start) would pay at start-up for a function only writes call
    from pypinyin import Style, lazy_pinyin

    for token in lazy_pinyin(text, style=Style.NORMAL, errors=lambda s: [s]):
        token = token.lower()
        if token:
            out.append(token)
    return tuple(out)


def pinyin_keys(text: str) -> set[str]:
    syl = syllables(text)
    keys = set()
    for i in range(len(syl)):
        rest = syl[i:]
        keys.add("@" + "".join(rest)[:PINYIN_FULL_MAX])
        keys.add("@" + "".join(s[0] for s in rest)[:PINYIN_INITIALS_MAX])
    return keys


def text_keys(text: str) -> set[str]:
    if not text:
        return set()
    keys = {text[i : i + 2] for i in range(len(text) - 1)}
    keys.add(text[-1])
    return keys


def name_keys(*names: str) -> set[str]:
    keys: set[str] = set()
    for raw in names:
        norm = normalize(raw)
        if not norm:
            continue
        keys |= text_keys(norm)
        # pinyin of the distinctive part: company-form suffixes add nothing users type
        core = norm
        for suffix in _COMPANY_SUFFIXES:
            if core.endswith(suffix) and len(core) > len(suffix):
                core = core[: -len(suffix)]
                break
        keys |= pinyin_keys(core)
    return keys


def phone_keys(*phones: str) -> set[str]:
    keys = set()
    for p in phones:
        d = phone_digits(p)
        if len(d) >= 3:
            keys.add("#" + d)
            keys.add("$" + d[::-1])
    return keys


def customer_terms(customer) -> set[str]:
    terms = name_keys(customer.name, customer.short_name)
    terms |= phone_keys(customer.phone, customer.phone_alt, customer.fax)
    if customer.email:
        terms.add("!" + customer.email.lower())
    if customer.credit_code:
        terms.add("&" + customer.credit_code.upper())
    return terms


def contact_terms(contact) -> set[str]:
    terms = name_keys(contact.name)
    terms |= phone_keys(contact.mobile, contact.phone)
    if contact.email:
        terms.add("!" + contact.email.lower())
    return terms


# --- writing -------------------------------------------------------------------------------------


def _insert_sql() -> str:
    return f"INSERT INTO {TABLE} (term, kind, obj_id) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"


def replace_terms(kind: str, obj_id: int, old: Iterable[str], new: Iterable[str]) -> None:
    old, new = set(old), set(new)
    with connection.cursor() as cur:
        gone = old - new
        if gone:
            cur.executemany(
                f"DELETE FROM {TABLE} WHERE term = %s AND kind = %s AND obj_id = %s",
                [(t, kind, obj_id) for t in gone],
            )
        added = new - old
        if added:
            cur.executemany(_insert_sql(), [(t, kind, obj_id) for t in added])


def bulk_insert(rows: Iterable[tuple[str, str, int]]) -> None:
    with connection.cursor() as cur:
        cur.executemany(_insert_sql(), list(rows))


def rebuild() -> int:
    """Recompute every term from the records (after an upgrade or a bulk load)."""
    from .models import Contact, Customer

    n = 0
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE}")
    batch: list[tuple[str, str, int]] = []
    for c in Customer.objects.only(
        "id", "name", "short_name", "phone", "phone_alt", "fax", "email", "credit_code"
    ).iterator(chunk_size=5000):
        batch.extend((t, KIND_CUSTOMER, c.pk) for t in customer_terms(c))
        if len(batch) > 50000:
            bulk_insert(batch)
            n += len(batch)
            batch = []
    for p in Contact.objects.only("id", "name", "mobile", "phone", "email").iterator(chunk_size=5000):
        batch.extend((t, KIND_CONTACT, p.pk) for t in contact_terms(p))
        if len(batch) > 50000:
            bulk_insert(batch)
            n += len(batch)
            batch = []
    bulk_insert(batch)
    return n + len(batch)


# --- querying ------------------------------------------------------------------------------------


def _exact(term: str, kind: str) -> tuple[str, list]:
    return f"SELECT obj_id FROM {TABLE} WHERE term = %s AND kind = %s", [term, kind]


def _prefix(prefix: str, kind: str) -> tuple[str, list]:
    return (
        f"SELECT obj_id FROM {TABLE} WHERE term >= %s AND term < %s AND kind = %s",
        [prefix, prefix + TOP, kind],
    )


_CREDIT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{6,18}$")


@dataclass(frozen=True)
class Cond:
    """One condition on a record's terms: the exact term, or any term starting with ``term``."""

    term: str
    prefix: bool = False

    def where(self, kind: str, alias: str = "") -> tuple[str, list]:
        col = f"{alias}." if alias else ""
        if self.prefix:
            sql = f"{col}term >= %s AND {col}term < %s AND {col}kind = %s"
            return sql, [self.term, self.term + TOP, kind]
        return f"{col}term = %s AND {col}kind = %s", [self.term, kind]


def query_plan(q: str, kind: str = KIND_CUSTOMER) -> list[list[Cond]]:
    """What ``q`` asks for: alternatives (a record matching any one matches), each a list of
    conditions that must all hold. Empty: ``q`` matches nothing."""
    q = (q or "").strip()
    if not q:
        return []
    plan: list[list[Cond]] = []
    compact = re.sub(r"[\s\-()+]", "", q)
    if compact.isdigit() and len(compact) >= 3:
        plan.append([Cond("#" + compact, True)])
        plan.append([Cond("$" + compact[::-1], True)])
    if "@" in q:
        plan.append([Cond("!" + q.lower(), True)])
    if kind == KIND_CUSTOMER and _CREDIT.match(compact.upper()) and any(ch.isdigit() for ch in compact):
        plan.append([Cond("&" + compact.upper(), True)])
    norm = normalize(q)
    if norm and re.fullmatch(r"[a-z]+", norm):
        plan.append([Cond("@" + norm, True)])
    if norm and "@" not in q and not compact.isdigit():
        if len(norm) == 1:
            plan.append([Cond(norm, True)])
        else:
            plan.append([Cond(g) for g in sorted({norm[i : i + 2] for i in range(len(norm) - 1)})])
    return plan


def id_subquery(q: str, kind: str = KIND_CUSTOMER) -> tuple[str, list] | None:
    """SQL selecting the ids of records of ``kind`` matching ``q`` (None: matches nothing)."""
    plan = query_plan(q, kind)
    if not plan:
        return None
    parts: list[tuple[str, list]] = []
    for alternative in plan:
        if len(alternative) == 1 and alternative[0].prefix:
            parts.append(_prefix(alternative[0].term, kind))
        else:
            selects = [_exact(c.term, kind) for c in alternative]
            parts.append((" INTERSECT ".join(s for s, _ in selects), [p for _, ps in selects for p in ps]))
    sql = " UNION ".join(f"SELECT obj_id FROM ({s}) AS s{i}" for i, (s, _) in enumerate(parts))
    params = [p for _, ps in parts for p in ps]
    return sql, params


def _capped_count(cur, cond: Cond, kind: str, cap: int | None) -> int:
    where, params = cond.where(kind)
    if cap is None:
        cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE {where}", params)
        return cur.fetchone()[0]
    limit = int(cap) + 1
    cur.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {TABLE} WHERE {where} LIMIT {limit}) AS n", params)
    return cur.fetchone()[0]


def _probe(cond: Cond, kind: str, id_sql: str, alias: str) -> tuple[str, list]:
    """SQL true when the record whose id is ``id_sql`` has a term meeting ``cond`` (index look-up)."""
    where, params = cond.where(kind, alias)
    return f"EXISTS (SELECT 1 FROM {TABLE} AS {alias} WHERE {where} AND {alias}.obj_id = {id_sql})", params


def candidate_ids(plan: list[list[Cond]], kind: str, cap: int) -> tuple[list[int] | None, list[list[Cond]]]:
    """The ids of the records matching ``plan`` when there are at most ``cap`` (else None), and
    the plan without the alternatives that match nothing.

    Each alternative is read from its rarest condition (measured by a capped count over the
    term index, so a term in half the names costs ``cap`` index entries, not half a million),
    the other conditions are probed per candidate through the primary key.
    """
    ids: set[int] = set()
    live: list[list[Cond]] = []
    too_many = False
    with connection.cursor() as cur:
        for alternative in plan:
            sized = sorted((_capped_count(cur, c, kind, cap), i, c) for i, c in enumerate(alternative))
            if sized[0][0] == 0:
                continue
            live.append(alternative)
            if too_many or sized[0][0] > cap:
                too_many = True
                continue
            drive = sized[0][2]
            where, params = drive.where(kind, "t0")
            sql = f"SELECT DISTINCT t0.obj_id FROM {TABLE} AS t0 WHERE {where}"
            for i, (_n, _j, c) in enumerate(sized[1:]):
                psql, pparams = _probe(c, kind, "t0.obj_id", f"t{i + 1}")
                sql += " AND " + psql
                params += pparams
            cur.execute(sql + f" LIMIT {int(cap) + 1}", params)
            ids.update(r[0] for r in cur.fetchall())
            too_many = len(ids) > cap
    return (None if too_many else sorted(ids)), live


def count_upto(plan: list[list[Cond]], kind: str, cap: int | None) -> int:
    """About how many records match ``plan``, counted up to ``cap`` per alternative (None: all);
    an upper bound: each alternative's rarest condition, by the index alone."""
    total = 0
    with connection.cursor() as cur:
        for alternative in plan:
            total += min(_capped_count(cur, c, kind, cap) for c in alternative)
    return total


def match_sql(plan: list[list[Cond]], kind: str, id_sql: str, membership: bool = False) -> tuple[str, list]:
    """A condition on the record whose id is ``id_sql``: it matches ``plan``.

    For result sets too large to list: exact terms are probed per row through the primary key (so
    a page sorted by an index stops after a page's worth of matches); a prefix, which a probe would
    have to range over, is an ``IN`` list the database builds once. With ``membership`` every
    condition is such a list: dearer to start, cheaper per row, for walks that go far.
    """
    ors, params = [], []
    for alternative in plan:
        ands = []
        for i, cond in enumerate(alternative):
            if cond.prefix or membership:
                where, ps = cond.where(kind)
                ands.append(f"{id_sql} IN (SELECT obj_id FROM {TABLE} WHERE {where})")
            else:
                sql, ps = _probe(cond, kind, id_sql, f"st{i}")
                ands.append(sql)
            params += ps
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params


def query_words(q: str) -> list[str]:
    """The words of a query as they appear in names (split where the index ignores characters)."""
    return [w for w in _STRIP.split(unicodedata.normalize("NFKC", q or "")) if w]


def needs_like_check(q: str) -> bool:
    """A 3+ character text query intersects bigrams, which can match out of order: check with LIKE."""
    norm = normalize(q)
    return len(norm) > 2 and not re.fullmatch(r"[a-z]+|\d+", norm) and "@" not in q
