"""`hexmart users ...` and `hexmart api-keys ...` on the embedded default."""

from __future__ import annotations

import json

import pytest

from tests.entrypoints.cli.conftest import Hexmart, one_line_error


def create(hexmart: Hexmart, email: str, role: str = "admin") -> dict[str, str]:
    result = hexmart("users", "create", "--email", email, "--role", role, "--json")
    assert result.exit_code == 0, result.stderr
    record: dict[str, str] = json.loads(result.stdout)
    return record


def test_the_first_admin_gets_a_generated_password_printed_once(hexmart: Hexmart) -> None:
    result = hexmart("users", "create", "--email", "Root@Example.com", "--role", "admin")

    assert result.exit_code == 0, result.stderr
    assert "created admin root@example.com" in result.stdout
    [password] = [
        line.split(": ", 1)[1] for line in result.stdout.splitlines() if "shown once" in line
    ]
    assert len(password) >= 16
    listed = json.loads(hexmart("users", "list", "--json").stdout)
    assert [(u["email"], u["role"]) for u in listed] == [("root@example.com", "admin")]
    assert "password" not in listed[0]


def test_a_password_from_stdin_is_checked_and_used(hexmart: Hexmart) -> None:
    weak = hexmart(
        "users",
        "create",
        "--email",
        "a@example.com",
        "--role",
        "staff",
        "--password-stdin",
        input="short\n",
    )
    assert weak.exit_code == 2
    assert "at least 10 characters" in one_line_error(weak)
    assert json.loads(hexmart("users", "list", "--json").stdout) == []

    good = hexmart(
        "users",
        "create",
        "--email",
        "a@example.com",
        "--role",
        "staff",
        "--password-stdin",
        "--full-name",
        "Ann Staff",
        input="a long enough password\n",
    )
    assert good.exit_code == 0, good.stderr
    assert "shown once" not in good.stdout
    shown = json.loads(hexmart("users", "show", "a@example.com", "--json").stdout)
    assert shown["full_name"] == "Ann Staff"
    assert shown["role"] == "staff"


def test_a_taken_email_is_refused_with_exit_1(hexmart: Hexmart) -> None:
    create(hexmart, "a@example.com")
    again = hexmart("users", "create", "--email", "a@example.com", "--role", "customer")
    assert again.exit_code == 1
    assert one_line_error(again).startswith("hexmart: ")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["users", "create", "--email", "not-an-email", "--role", "admin"], 2),
        (["users", "create", "--email", "a@example.com", "--role", "king"], 2),
        (["users", "show", "nobody@example.com"], 1),
        (["users", "show", "no-such-id"], 1),
        (["users", "set-role", "nobody@example.com", "staff", "--yes"], 1),
        (["users", "deactivate", "nobody@example.com", "--yes"], 1),
        (
            [
                "api-keys",
                "create",
                "--owner",
                "nobody@example.com",
                "--name",
                "n",
                "--scopes",
                "orders:read",
            ],
            1,
        ),
        (["api-keys", "revoke", "no-such-key", "--yes"], 1),
        (["users", "list", "--as", "nobody@example.com"], 2),
    ],
)
def test_bad_input_is_one_line_with_the_right_exit_code(
    hexmart: Hexmart, args: list[str], code: int
) -> None:
    result = hexmart(*args)
    assert result.exit_code == code, result.output
    if code == 1 or "--as" in args or "not-an-email" in args:
        assert one_line_error(result).startswith("hexmart: ")


def test_role_changes_and_deactivation(hexmart: Hexmart) -> None:
    create(hexmart, "root@example.com")
    create(hexmart, "c@example.com", role="customer")

    assert hexmart("users", "set-role", "c@example.com", "staff", "--yes").exit_code == 0
    assert [
        u["email"] for u in json.loads(hexmart("users", "list", "--role", "staff", "--json").stdout)
    ] == ["c@example.com"]
    refused = hexmart("users", "deactivate", "c@example.com", input="n\n")
    assert refused.exit_code == 1
    assert json.loads(hexmart("users", "show", "c@example.com", "--json").stdout)["active"]

    assert hexmart("users", "deactivate", "c@example.com", "--yes").exit_code == 0
    assert not json.loads(hexmart("users", "show", "c@example.com", "--json").stdout)["active"]
    assert hexmart("users", "activate", "c@example.com").exit_code == 0
    assert json.loads(hexmart("users", "show", "c@example.com", "--json").stdout)["active"]


def test_acting_as_staff_is_refused_admin_work(hexmart: Hexmart) -> None:
    create(hexmart, "s@example.com", role="staff")
    result = hexmart("users", "list", "--as", "s@example.com")
    assert result.exit_code == 1
    assert "not allowed" in one_line_error(result)


def test_an_admin_cannot_demote_themselves(hexmart: Hexmart) -> None:
    create(hexmart, "root@example.com")
    result = hexmart(
        "users", "set-role", "root@example.com", "customer", "--yes", "--as", "root@example.com"
    )
    assert result.exit_code == 1
    assert json.loads(hexmart("users", "show", "root@example.com", "--json").stdout)["role"] == (
        "admin"
    )


def test_password_reset_needs_shared_token_storage(hexmart: Hexmart) -> None:
    create(hexmart, "c@example.com", role="customer")
    result = hexmart("users", "send-password-reset", "c@example.com")
    assert result.exit_code == 2
    assert "HEXMART_REDIS_URL" in one_line_error(result)


def test_api_keys_are_printed_once_listed_and_revoked(hexmart: Hexmart) -> None:
    create(hexmart, "root@example.com")
    customer = create(hexmart, "c@example.com", role="customer")
    refused = hexmart(
        "api-keys", "create", "--owner", "c@example.com", "--name", "n", "--scopes", "orders:read"
    )
    assert refused.exit_code == 1
    bad_scope = hexmart(
        "api-keys", "create", "--owner", "root@example.com", "--name", "n", "--scopes", "all"
    )
    assert bad_scope.exit_code == 2
    assert "unknown scope" in one_line_error(bad_scope)

    made = hexmart(
        "api-keys",
        "create",
        "--owner",
        "root@example.com",
        "--name",
        "erp",
        "--scopes",
        "orders:read,products:read",
        "--json",
    )
    assert made.exit_code == 0, made.stderr
    issued = json.loads(made.stdout)
    assert issued["key"].startswith(issued["prefix"])
    assert issued["scopes"] == ["orders:read", "products:read"]
    assert issued["created_by"] != customer["id"]

    listed = json.loads(hexmart("api-keys", "list", "--json").stdout)
    assert [k["id"] for k in listed] == [issued["id"]]
    assert "key" not in listed[0]
    assert "erp" in hexmart("api-keys", "list").stdout

    assert hexmart("api-keys", "revoke", issued["id"], "--yes").exit_code == 0
    assert json.loads(hexmart("api-keys", "list", "--json").stdout) == []
