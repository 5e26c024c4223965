"""The orders import's fast path: a batch checked column by column instead of row by row.

A batch of a well-formed file (every row as wide as the header, no blank rows, numbers that
``float`` reads, dates, channels, states and products already met, each order's lines next to each
other, no order number met before) is checked and turned into order and line tuples with C-speed
built-ins over whole columns (``zip``, ``map``, ``set``, ``itertools``) and ``numpy.bincount``,
with no Python loop per row. Measured on 1M lines: about 4.5 µs of CPU a line against 7.5 µs row
by row, everything included (``float`` on each number cell, about 0.2 µs a cell, is the largest
part and is the same either way).

It decides before it changes anything: the first thing it is not sure of (a cell ``float`` cannot
read, an unknown product or channel, a blank cell where one is needed, an order number met
before, …) makes it give the batch back (``None``), and the row-by-row path of ``orders.py``
checks it instead — with its error messages and every special case. So what is written, counted and
reported is the same either way (tested by running files both ways).
"""

from __future__ import annotations

import re
from itertools import chain, compress, repeat
from operator import gt, lt, mul, ne

import numpy as np

from guanxi.sales.models import DeliveryState

from .values import MONEY_LIMIT

ENABLED = True  # the tests switch it off to compare with the row-by-row path


def _strip(col) -> list[str]:
    return list(map(str.strip, col))


def _changes_within(col, breaks: list[bool] | None) -> bool:
    """Whether the column changes between two rows of the same order."""
    if breaks is None:
        return False
    return any(map(gt, map(ne, col[1:], col[:-1]), breaks))


# a cell with more than 2 (3) characters after its first dot; "\x00" joins the cells (float() refuses it)
_MORE_DECIMALS = {places: re.compile(rf"\.[^\x00]{{{places + 1}}}") for places in (2, 3)}


def _numbers(col, places: int, blank):
    """The column as rounded floats (``blank`` for empty cells); None if a cell is not a plain
    number within the limits (the row-by-row path then says why)."""
    try:
        if "" in col:
            if blank is None:
                vals = [float(s) if s else None for s in col]
                present = [v for v in vals if v is not None]
            else:
                vals = present = [float(s) if s else blank for s in col]
        else:
            vals = present = list(map(float, col))
    except ValueError:
        return None
    if present:
        if any(map(ne, present, present)):  # nan
            return None
        if not (-MONEY_LIMIT < min(present) and max(present) < MONEY_LIMIT):  # also inf
            return None
    # rounded only when a cell has more decimals than stored (as the row-by-row path does)
    if not _MORE_DECIMALS[places].search("\x00".join(col)):
        return vals
    if blank is None and present is not vals:
        return [round(v, places) if v is not None else None for v in vals]
    return list(map(round, vals, repeat(places)))


def _at(values: list, starts: list[int]) -> list:
    return list(map(values.__getitem__, starts))


def batch(imp, first_rn: int, cols: list) -> tuple[list[tuple], list[tuple]] | None:
    """The batch's orders and lines (and the importer's state updated) from its columns, or None
    to let the row-by-row path check it."""
    if len(cols) < imp.width or not cols or not cols[0]:
        return None
    n = len(cols[0])
    c = imp.col

    # --- orders: runs of one order number ---------------------------------------------------------
    if imp.i_num >= 0:
        nums = _strip(cols[imp.i_num])
        if "" in nums or max(map(len, nums)) > 64:
            return None
        breaks = list(map(ne, nums[1:], nums[:-1]))  # breaks[i]: row i+1 starts an order
        starts = [0, *compress(range(1, n), breaks)]
        distinct = set(nums)
        if len(distinct) != len(starts):  # a number comes back later in the batch
            return None
        # (a membership test per number: set.isdisjoint(dict) would walk the whole dict)
        for met in (imp.seen, imp.existing, imp.bad_numbers):
            if met and any(map(met.__contains__, distinct)):
                return None
        gnums: list = _at(nums, starts)
    else:
        breaks = None
        starts = list(range(n))
        gnums = [None] * n
    ng = len(starts)

    # --- the order's header: customer, date, channel, state (the same on each of its lines) ------
    keys = _strip(cols[imp.i_key])
    if "" in keys:
        return None
    raw_dates = cols[c["order_date"]]
    i_chan, i_state = c.get("channel", -1), c.get("delivery_state", -1)
    chans = _strip(cols[i_chan]) if i_chan >= 0 else None
    states = _strip(cols[i_state]) if i_state >= 0 else None
    for col in (keys, raw_dates, chans, states):
        if col is not None and _changes_within(col, breaks):
            return None
    gkeys = _at(keys, starts)

    dates = imp.dates
    iso_of: dict[str, str] = {}
    for raw in set(_at(raw_dates, starts) if breaks is not None else raw_dates):
        d = dates[raw]
        if d.__class__ is not tuple:
            return None
        iso_of[raw] = d[0]
    giso = list(map(iso_of.__getitem__, _at(raw_dates, starts)))

    def choices(col, cache):
        if col is None:
            return [cache[""]] * ng
        gcol = _at(col, starts)
        if not all(map(cache.__contains__, set(gcol))):
            return None
        return list(map(cache.__getitem__, gcol))

    gchan = choices(chans, imp.channel_cache)
    gstate = choices(states, imp.state_cache)
    if gchan is None or gstate is None:
        return None
    i_note = c.get("note", -1)
    gnote = _at(_strip(cols[i_note]), starts) if i_note >= 0 else [""] * ng

    # --- customers, and those to create --------------------------------------------------------
    customers = imp.customers
    if imp.customer_errors and any(map(imp.customer_errors.__contains__, gkeys)):
        return None
    new_keys = [k for k in dict.fromkeys(gkeys) if k not in customers]
    new_customers: list[tuple[str, str | None, str]] = []  # (key, code, name)
    if new_keys:
        opts = imp.options
        if not opts.create_customers or (opts.owner is None and "owner" in c):
            return None
        if imp.i_name >= 0:
            gnames = _at(cols[imp.i_name], starts)
            first_name = dict(zip(reversed(gkeys), reversed(gnames), strict=False))
        for k in new_keys:
            name = first_name[k].strip() if imp.i_name >= 0 else k
            code = None if imp.by_name else k
            if not name or len(name) > 200 or (code and len(code) > 64):
                return None
            new_customers.append((k, code, name))

    # --- the lines -------------------------------------------------------------------------------
    i_pcode, i_prod = c.get("product_code", -1), c.get("product", -1)
    if i_pcode >= 0 or i_prod >= 0:
        pcodes = _strip(cols[i_pcode]) if i_pcode >= 0 else None
        pnames = _strip(cols[i_prod]) if i_prod >= 0 else None
        by_code, by_name = imp.products_by_code, imp.products_by_name
        if pcodes is not None and pnames is not None:
            pkeys: list = list(zip(pcodes, pnames, strict=False))
            pairs = set(pkeys)
        else:
            pkeys = pcodes if pcodes is not None else pnames
            pairs = {(k, "") if pcodes is not None else ("", k) for k in set(pkeys)}
        pid_of: dict = {}
        for code, name in pairs:
            if code:
                pid = by_code.get(code)
            elif name:
                pid = by_name.get(name)
            else:
                pid = None
            if pid is None and (code or name):
                return None  # a product to find or create: the row-by-row path does it
            pid_of[(code, name) if pcodes is not None and pnames is not None else code or name] = pid
        pids = list(map(pid_of.__getitem__, pkeys))
    else:
        pids = [None] * n

    i_qty, i_price, i_amt, i_cost = (c.get(f, -1) for f in ("quantity", "unit_price", "amount", "cost"))
    qty = _numbers(cols[i_qty], 3, 1.0) if i_qty >= 0 else [1.0] * n
    price = _numbers(cols[i_price], 2, None) if i_price >= 0 else [None] * n
    if qty is None or price is None:
        return None
    if i_amt >= 0:
        amount = _numbers(cols[i_amt], 2, None)
        if amount is None:
            return None
        if None in amount:  # blank: quantity × unit price
            try:
                amount = [
                    a if a is not None else round(q * p, 2)
                    for a, q, p in zip(amount, qty, price, strict=False)
                ]
            except TypeError:  # no unit price either
                return None
    else:
        if None in price:
            return None
        amount = list(map(round, map(mul, qty, price), repeat(2)))
    cost = _numbers(cols[i_cost], 2, None) if i_cost >= 0 else [None] * n
    if cost is None:
        return None
    if None in cost:  # the product's unit cost × quantity, as when an order is entered by hand
        unit_cost = imp.product_cost
        if any(unit_cost.get(p) is not None for p in set(pids) if p is not None):
            cost = [
                x
                if x is not None
                else (
                    None
                    if p is None or unit_cost.get(p) is None
                    else (-1 if a < 0 else 1) * round(unit_cost[p] * abs(q), 2)
                )
                for x, p, q, a in zip(cost, pids, qty, amount, strict=False)
            ]
    i_gift = c.get("gift", -1)
    if i_gift >= 0:
        gifts = _strip(cols[i_gift])
        if max(map(len, gifts)) > 200:
            return None
    else:
        gifts = [""] * n

    # --- sure now: change the importer's state ---------------------------------------------------
    owner = imp.default_owner()
    for k, code, name in new_customers:
        cid = imp.customer_ids.take()
        imp.new_customers.append((cid, code, name, owner.pk, owner.department_id, owner.team_id))
        customers[k] = cid
    gcid = list(map(customers.__getitem__, gkeys))
    oid0 = imp.order_ids.take(ng)
    goid = range(oid0, oid0 + ng)
    if breaks is None:
        line_oid: list | range = goid
        gamount, gcost = amount, cost
        lengths = None
    else:
        ends = [*starts[1:], n]
        lengths = list(map(int.__sub__, ends, starts))
        line_oid = list(chain.from_iterable(map(repeat, goid, lengths)))
        slices = list(map(slice, starts, ends))
        gamount = list(map(sum, map(amount.__getitem__, slices)))
        if None not in cost:
            gcost = list(map(sum, map(cost.__getitem__, slices)))
        elif any(x is not None for x in cost):
            gcost = [_sum_known(cost[s]) for s in slices]
        else:
            gcost = [None] * ng
    gamount = list(map(round, gamount, repeat(2)))
    if None not in gcost:
        gcost = list(map(round, gcost, repeat(2)))
    elif any(x is not None for x in gcost):
        gcost = [round(x, 2) if x is not None else None for x in gcost]

    orders = list(zip(goid, gnums, giso, gchan, gstate, gamount, gcost, gnote, gcid, strict=False))
    lines = list(zip(line_oid, pids, qty, price, amount, cost, gifts, strict=False))

    counts = imp.counts
    counts["orders_created"] += ng
    counts["returns"] += sum(map(lt, gamount, repeat(0.0)))
    counts["free_orders"] += gamount.count(0.0)
    if breaks is not None:
        imp.seen.update(zip(gnums, zip(goid, gcid, giso, gchan, gstate, strict=False), strict=False))
        if imp.options.skip_invalid:
            for num, s, length in zip(gnums, starts, lengths, strict=False):
                imp.order_rows.setdefault(num, []).extend(range(first_rn + s, first_rn + s + length))
    _months(imp, pids, qty, amount, cost, giso, gstate, lengths)
    return orders, lines


def _sum_known(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _months(imp, pids, qty, amount, cost, giso, gstate, lengths) -> None:
    """What the batch's lines add to the product months (``OrdersImport._months``, by column):
    summed per (product, month) by ``numpy.bincount``, which adds in the lines' order."""
    if None in pids:
        if all(p is None for p in set(pids)):
            return
        keep = list(map(ne, pids, repeat(None)))
        pids = [p or 0 for p in pids]
    else:
        keep = None
    month_of = {iso: iso[:8] + "01" for iso in set(giso)}
    months = sorted(set(month_of.values()))
    index = {m: i for i, m in enumerate(months)}
    at = {iso: index[m] for iso, m in month_of.items()}
    key = np.fromiter(map(at.__getitem__, giso), np.int64, len(giso))
    live = None
    if DeliveryState.CANCELLED in gstate:
        live = np.fromiter(map(ne, gstate, repeat(DeliveryState.CANCELLED)), bool, len(gstate))
    if lengths is not None:
        n = np.array(lengths)
        key = np.repeat(key, n)
        live = np.repeat(live, n) if live is not None else None
    key += np.array(pids, dtype=np.int64) * len(months)
    if keep is not None:
        mask = np.array(keep, dtype=bool)
        live = mask if live is None else live & mask
    if None in cost:
        cost = [0.0 if x is None else x for x in cost]
    weights = [np.array(qty, dtype=float), np.array(amount, dtype=float), np.array(cost, dtype=float)]
    if live is not None:
        key = key[live]
        weights = [w[live] for w in weights]
        if not len(key):
            return
    uniq, inv = np.unique(key, return_inverse=True)
    sums = [np.bincount(inv, weights=w, minlength=len(uniq)).tolist() for w in weights]
    counts = np.bincount(inv, minlength=len(uniq)).tolist()
    pm = imp.product_months
    for k, qv, rv, cv, kv in zip(uniq.tolist(), *sums, counts, strict=False):
        pid, m = divmod(k, len(months))
        key2 = (pid, months[m])
        v = pm.get(key2)
        if v is None:
            pm[key2] = [qv, rv, cv, kv]
        else:
            v[0] += qv
            v[1] += rv
            v[2] += cv
            v[3] += kv
