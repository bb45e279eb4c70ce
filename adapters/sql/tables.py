"""The relational schema, as SQLAlchemy Core tables.

Rows are translated to and from domain objects by hand in the repositories: the domain
knows nothing of this module. Money is two columns (amount in minor units, currency).
Every timestamp is a `UtcDateTime`. Ids compare by code point on every dialect, so keyset
pagination orders ties exactly like the in-memory adapter.

A few objects exist on one dialect only (marked with `only_on`): the trigram indexes for
the catalog text filter need PostgreSQL's pg_trgm, and SQLite, having no sequences, draws
order numbers from a one-row counter table. The migrations create them on their dialect
only, and `include_in_schema()` keeps the autogenerate comparison honest about that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CHAR,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sql.column_types import UtcDateTime, code_point_string

ONLY_ON = "hexmart_only_on"

# The first order number handed out (the in-memory adapter starts at the same place).
FIRST_ORDER_NUMBER = 1001

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id(name: str, *args: Any, **kwargs: Any) -> Column[str]:
    return Column(name, code_point_string(64), *args, **kwargs)


def _money(prefix: str) -> tuple[Column[int], Column[str]]:
    return (
        Column(f"{prefix}_amount", BigInteger, nullable=False),
        Column(f"{prefix}_currency", CHAR(3), nullable=False),
    )


def _timestamp(name: str, *, nullable: bool = False) -> Column[Any]:
    return Column(name, UtcDateTime(), nullable=nullable)


users = Table(
    "users",
    metadata,
    _id("id", primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),
    Column("is_active", Boolean, nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Column("version", Integer, nullable=False),
    # Raised by a password change, deactivation or role change: tokens of older epochs die.
    Column("token_epoch", Integer, nullable=False, server_default="0"),
    # Raised by a role change or deactivation: API keys the user made die with it.
    Column("role_epoch", Integer, nullable=False, server_default="0"),
    Index(None, "created_at", "id"),
    Index(None, "role"),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id("id", primary_key=True),
    Column("name", String(100), nullable=False),
    # Sorted scope values separated by spaces, e.g. "orders:read products:read".
    Column("scopes", Text, nullable=False),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("prefix", String(64), nullable=False),
    _id("created_by", nullable=False),
    _timestamp("created_at"),
    Column("creator_role_epoch", Integer, nullable=False, server_default="0"),
    Index(None, "created_at", "id"),
)

products = Table(
    "products",
    metadata,
    _id("id", primary_key=True),
    Column("name", code_point_string(200), nullable=False),
    Column("description", Text, nullable=False),
    # The searchable form of the name and description (domain.catalog.searchable, computed
    # in Python, not by the database's lower()), which a listing's text is looked for in:
    # the same answer on every database and in the in-memory adapter.
    Column("search_name", Text, nullable=False),
    Column("search_description", Text, nullable=False),
    *_money("price"),
    Column("inventory_count", Integer, nullable=False),
    Column("category", String(100), nullable=False),
    Column("is_archived", Boolean, nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Column("version", Integer, nullable=False),
    # The shop's own product code: optional, unique when present.
    Column("sku", code_point_string(64), nullable=True),
    CheckConstraint("inventory_count >= 0", name="inventory_not_negative"),
    CheckConstraint("price_amount >= 0", name="price_not_negative"),
    Index(None, "created_at", "id"),
    Index(None, "price_amount", "id"),
    Index(None, "name", "id"),
    Index(None, "category"),
    Index(None, "sku", unique=True),
    Index(
        "ix_products_search_name_trgm",
        "search_name",
        postgresql_using="gin",
        postgresql_ops={"search_name": "gin_trgm_ops"},
        info={ONLY_ON: "postgresql"},
    ).ddl_if(dialect="postgresql"),
    Index(
        "ix_products_search_description_trgm",
        "search_description",
        postgresql_using="gin",
        postgresql_ops={"search_description": "gin_trgm_ops"},
        info={ONLY_ON: "postgresql"},
    ).ddl_if(dialect="postgresql"),
)

product_images = Table(
    "product_images",
    metadata,
    _id("id", primary_key=True),
    _id("product_id", ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("content_type", String(255), nullable=False),
    _timestamp("created_at"),
    Index(None, "product_id"),
)

carts = Table(
    "carts",
    metadata,
    _id("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    _timestamp("updated_at"),
    Column("version", Integer, nullable=False),
)

cart_lines = Table(
    "cart_lines",
    metadata,
    _id("user_id", ForeignKey("carts.user_id", ondelete="CASCADE"), primary_key=True),
    _id("product_id", ForeignKey("products.id"), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)

orders = Table(
    "orders",
    metadata,
    _id("id", primary_key=True),
    Column("number", BigInteger, nullable=False, unique=True),
    _id("user_id", ForeignKey("users.id"), nullable=False),
    Column("status", String(20), nullable=False),
    # One currency for the whole order: its lines, total, paid and refunded amounts.
    Column("currency", CHAR(3), nullable=False),
    Column("total_amount", BigInteger, nullable=False),
    Column("paid_amount", BigInteger, nullable=False),
    Column("refunded_amount", BigInteger, nullable=False),
    Column("ship_name", String(200), nullable=False),
    Column("ship_line1", String(200), nullable=False),
    Column("ship_line2", String(200), nullable=True),
    Column("ship_city", String(100), nullable=False),
    Column("ship_postal_code", String(20), nullable=False),
    Column("ship_country", CHAR(2), nullable=False),
    Column("tracking_number", String(100), nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Column("version", Integer, nullable=False),
    Index(None, "user_id", "created_at", "id"),
    Index(None, "status", "created_at"),
    Index(None, "created_at", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    _id("order_id", ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    _id("product_id", ForeignKey("products.id"), nullable=False),
    Column("name", String(200), nullable=False),
    *_money("unit_price"),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)

payments = Table(
    "payments",
    metadata,
    _id("id", primary_key=True),
    _id("order_id", ForeignKey("orders.id"), nullable=False, unique=True),
    _id("user_id", nullable=False),
    Column("provider", String(50), nullable=False),
    *_money("amount"),
    Column("status", String(30), nullable=False),
    Column("intent_id", String(255), nullable=True, unique=True),
    Column("client_secret", Text, nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Column("version", Integer, nullable=False),
    Index(None, "status", "created_at"),
)

refunds = Table(
    "refunds",
    metadata,
    _id("id", primary_key=True),
    _id("payment_id", ForeignKey("payments.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    *_money("amount"),
    Column("reason", Text, nullable=True),
    Column("provider_refund_id", String(255), nullable=True),
    _timestamp("created_at"),
    Index(None, "payment_id"),
)

outbox = Table(
    "outbox",
    metadata,
    _id("id", primary_key=True),
    Column("name", String(100), nullable=False),
    Column("payload", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    _timestamp("created_at"),
    Column("attempts", Integer, nullable=False),
    # Handed to the task queue (last time), and done by its handler: see application/outbox.py.
    _timestamp("enqueued_at", nullable=True),
    _timestamp("handled_at", nullable=True),
    # The request id and trace context of the work that wrote it (application.message_context).
    Column("context", JSON().with_variant(JSONB(), "postgresql"), nullable=True),
    # The relay's query and the backlog's: unhandled messages, oldest first. Partial, so it
    # stays small.
    Index(
        "ix_outbox_unhandled",
        "created_at",
        "id",
        postgresql_where=text("handled_at IS NULL"),
        sqlite_where=text("handled_at IS NULL"),
    ),
    Index(None, "handled_at"),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    _id("user_id", primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_fingerprint", String(128), nullable=False),
    _id("order_id", nullable=False),
    _timestamp("created_at"),
    Index(None, "created_at"),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("provider", String(50), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    _timestamp("processed_at"),
    Index(None, "processed_at"),
)

uploads = Table(
    "uploads",
    metadata,
    _id("id", primary_key=True),
    _id("owner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("storage_key", Text, nullable=False),
    _timestamp("created_at"),
    _timestamp("completed_at", nullable=True),
    CheckConstraint("size > 0", name="size_positive"),
    Index(None, "owner_id", "created_at"),
)
# For forgetting abandoned uploads (Uploads.purge_abandoned): only the incomplete ones.
Index(
    "ix_uploads_created_at_incomplete",
    uploads.c.created_at,
    postgresql_where=uploads.c.completed_at.is_(None),
    sqlite_where=uploads.c.completed_at.is_(None),
)

# For a SQL-backed TokenStore (refresh-token rotation with reuse detection); not used yet.
refresh_token_families = Table(
    "refresh_token_families",
    metadata,
    _id("family_id", primary_key=True),
    _id("user_id", nullable=False),
    Column("current_hash", String(128), nullable=False),
    _timestamp("expires_at"),
    _timestamp("revoked_at", nullable=True),
    Index(None, "user_id"),
)

# The local payment gateway's own records (the embedded default's stand-in for Stripe),
# kept in the shop's PostgreSQL database so that every app process and worker sees every
# intent. On SQLite the gateway keeps them in a file of its own beside the shop's (see
# adapters/sql/local_payment_gateway.py), hence `only_on` here.
local_payment_intents = Table(
    "local_payment_intents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("order_id", String(255), nullable=True),
    *_money("amount"),
    Column("refunded_amount", BigInteger, nullable=False),
    Column("client_secret", Text, nullable=False),
    Column("outcome", String(20), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    # When the shop is next to be told the intent succeeded: while pending, the moment it
    # completes by itself; while a delivery is under way, when to try again; NULL once
    # told (or, for an intent that waits for an explicit completion, never).
    _timestamp("deliver_at", nullable=True),
    Index(None, "deliver_at"),
    Index(None, "updated_at"),
    info={ONLY_ON: "postgresql"},
)

local_payment_refunds = Table(
    "local_payment_refunds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "intent_id",
        String(64),
        ForeignKey("local_payment_intents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # 1 for the intent's first refund, 2 for the next, ...
    Column("number", Integer, nullable=False),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    *_money("amount"),
    Column("reason", Text, nullable=True),
    _timestamp("created_at"),
    UniqueConstraint("intent_id", "number"),
    info={ONLY_ON: "postgresql"},
)

# PostgreSQL draws order numbers from this sequence (never rolled back, so gaps are
# possible); SQLite, which has none, from `order_number_counter`.
order_number_sequence = Sequence("order_number_seq", start=FIRST_ORDER_NUMBER, metadata=metadata)

order_number_counter = Table(
    "order_number_counter",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_number", BigInteger, nullable=False),
    info={ONLY_ON: "sqlite"},
)

# Every administrative action (HTTP or CLI), written in the transaction of the change.
audit_log = Table(
    "audit_log",
    metadata,
    _id("id", primary_key=True),
    _timestamp("at"),
    _id("actor_user_id", nullable=True),
    _id("actor_api_key_id", nullable=True),
    Column("actor_operator", String(200), nullable=True),
    Column("action", String(100), nullable=False),
    Column("target_type", String(50), nullable=False),
    _id("target_id", nullable=False),
    Column("summary", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Column("request_id", String(200), nullable=True),
    Index(None, "at", "id"),
    Index(None, "target_type", "target_id", "at"),
    Index(None, "actor_user_id", "at"),
)


def include_in_schema(obj: Any, dialect_name: str) -> bool:
    """False for a schema object that only exists on another dialect."""
    only_on = getattr(obj, "info", {}).get(ONLY_ON)
    if only_on is None and getattr(obj, "table", None) is not None:
        only_on = obj.table.info.get(ONLY_ON)
    return only_on is None or only_on == dialect_name
