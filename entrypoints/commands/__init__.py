"""The admin commands of `hexmart` (migrate, users, api-keys, catalog, orders, ...).

Each module defines click commands and imports only click at module level; a command
imports the container and the use cases when it runs (see runtime.py).
"""

from __future__ import annotations

import click

from entrypoints.commands import catalog, check, database, orders, outbox, users


def register_admin_commands(main: click.Group) -> None:
    for command in (
        database.migrate,
        database.db,
        users.users,
        users.api_keys,
        catalog.catalog,
        catalog.inventory,
        orders.orders,
        orders.payments,
        orders.housekeeping,
        orders.demo,
        orders.audit,
        check.check,
        outbox.outbox,
        outbox.workers,
    ):
        main.add_command(command)
