"""Fast seeding straight in SQL (INSERT ... SELECT generate_series): a million products
take seconds, not the minutes that going through the use cases one by one would.

Product `n` has id `bp-<n>`, a name with one of 100 words (`word<n % 100>`, so a
search for one word matches 1% of the catalog) and practically endless stock. User `n` of
group `g` has id `<g>-<n>`; each gets a cart of three lines."""

# ruff: noqa: S608  (the SQL is built from integers and fixed prefixes, never from input)

from __future__ import annotations

import psycopg

ENDLESS_STOCK = 1_000_000_000
HOT_PRODUCT = 1


def product_id(n: int) -> str:
    return f"bp-{n}"


def add_products(conn: psycopg.Connection, first: int, last: int) -> None:
    """Products first..last (inclusive), newest last."""
    conn.execute(
        f"""
        INSERT INTO products (id, name, description, search_name, search_description,
            price_amount, price_currency, inventory_count, category, is_archived,
            created_at, updated_at, version)
        SELECT 'bp-' || g,
               'Item ' || g || ' word' || (g % 100),
               'Bench product ' || g,
               'item ' || g || ' word' || (g % 100),
               'bench product ' || g,
               100 + g % 9000, 'USD', {ENDLESS_STOCK}, 'cat' || (g % 20), false,
               timestamptz '2026-01-01' + g * interval '1 second',
               timestamptz '2026-01-01' + g * interval '1 second', 1
        FROM generate_series({first}, {last}) AS g
        """
    )
    conn.execute("ANALYZE products")


def add_shoppers(
    conn: psycopg.Connection, group: str, count: int, catalog_size: int, *, hot: bool = False
) -> list[str]:
    """`count` customers with a three-line cart each (the first line is the hot product
    when `hot`); returns their ids."""
    prefix = f"{group}-"
    conn.execute(
        f"""
        INSERT INTO users (id, email, full_name, password_hash, role, is_active,
            created_at, updated_at, version)
        SELECT '{prefix}' || g, '{prefix}' || g || '@bench.example', 'Bench Shopper ' || g,
               'not-a-hash', 'customer', true, now(), now(), 1
        FROM generate_series(1, {count}) AS g
        """
    )
    conn.execute(
        f"""
        INSERT INTO carts (user_id, updated_at, version)
        SELECT '{prefix}' || g, now(), 1 FROM generate_series(1, {count}) AS g
        """
    )
    # Three distinct products per cart, spread over the catalog (2..catalog_size, so the
    # hot product is only ever bought by the hot group).
    spread = catalog_size - 1
    first_line = f"{HOT_PRODUCT}" if hot else f"2 + (g * 7919) % {spread}"
    conn.execute(
        f"""
        INSERT INTO cart_lines (user_id, product_id, position, quantity)
        SELECT '{prefix}' || g, 'bp-' || p, k, 1
        FROM generate_series(1, {count}) AS g,
             LATERAL (VALUES (0, {first_line}),
                             (1, 2 + (g * 7919 + 331) % {spread}),
                             (2, 2 + (g * 7919 + 662) % {spread})) AS line(k, p)
        """
    )
    return [f"{prefix}{n}" for n in range(1, count + 1)]
