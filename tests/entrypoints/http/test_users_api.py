"""/users: your own profile for every user, the rest for admins only."""

from __future__ import annotations

import pytest

from tests.entrypoints.http.shop_api import (
    PASSWORD,
    Account,
    Client,
    assert_problem,
    error_fields,
    login,
    register,
)


async def test_me_is_the_callers_user_object(client: Client, customer: Account) -> None:
    response = await client.get("/users/me", headers=customer.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == customer.id
    assert body["email"] == customer.email
    assert body["full_name"] == "Ann Archer"
    assert body["role"] == "customer"
    assert "password_hash" not in body


async def test_me_needs_credentials(client: Client) -> None:
    assert_problem(await client.get("/users/me"), 401)


async def test_renaming_yourself(client: Client, customer: Account) -> None:
    response = await client.patch(
        "/users/me", json={"full_name": "Ann B. Archer"}, headers=customer.headers
    )

    assert response.status_code == 200
    assert response.json()["full_name"] == "Ann B. Archer"


@pytest.mark.parametrize("field", ["role", "email", "is_active", "id"])
async def test_you_cannot_set_what_you_do_not_own(
    client: Client, customer: Account, field: str
) -> None:
    response = await client.patch("/users/me", json={field: "admin"}, headers=customer.headers)

    assert error_fields(response) == {field}


async def test_changing_your_password_needs_the_current_one(
    client: Client, customer: Account
) -> None:
    wrong = await client.patch(
        "/users/me",
        json={"current_password": "not my password!", "new_password": "another good one"},
        headers=customer.headers,
    )
    half = await client.patch(
        "/users/me", json={"new_password": "another good one"}, headers=customer.headers
    )

    assert error_fields(wrong) == {"current_password"}
    assert error_fields(half) == {"new_password"}


async def test_changing_your_password_ends_every_session_issued_before_it(
    client: Client, customer: Account
) -> None:
    laptop = await login(client, customer.email)
    response = await client.patch(
        "/users/me",
        json={"current_password": PASSWORD, "new_password": "another good one"},
        headers=customer.headers,
    )

    assert response.status_code == 200
    for session in (customer, laptop):
        assert_problem(await client.get("/users/me", headers=session.headers), 401)
        refresh = await client.post("/auth/refresh", json={"refresh_token": session.refresh_token})
        assert_problem(refresh, 401)
    again = await login(client, customer.email, "another good one")
    assert (await client.get("/users/me", headers=again.headers)).status_code == 200


async def test_admins_page_through_every_user(
    client: Client, admin: Account, customer: Account, other_customer: Account
) -> None:
    first = await client.get("/users", params={"limit": 2}, headers=admin.headers)
    rest = await client.get(
        "/users",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=admin.headers,
    )

    assert first.status_code == rest.status_code == 200
    ids = [u["id"] for u in first.json()["items"] + rest.json()["items"]]
    assert {admin.id, customer.id, other_customer.id} <= set(ids)
    assert len(ids) == len(set(ids)) == 3
    assert rest.json()["next_cursor"] is None


async def test_admins_read_and_change_a_user(
    client: Client, admin: Account, customer: Account
) -> None:
    read = await client.get(f"/users/{customer.id}", headers=admin.headers)
    changed = await client.patch(
        f"/users/{customer.id}", json={"role": "staff"}, headers=admin.headers
    )

    assert read.json()["email"] == customer.email
    assert changed.json()["role"] == "staff"
    # A role change ends the tokens issued before it; signing in again gives the new role.
    assert_problem(await client.get("/users/me", headers=customer.headers), 401)
    refresh = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    assert_problem(refresh, 401)
    again = await login(client, customer.email)
    product = await client.post(
        "/products",
        json={
            "name": "Lamp",
            "price": {"amount": 100, "currency": "USD"},
            "inventory_count": 1,
            "category": "office",
        },
        headers=again.headers,
    )
    assert product.status_code == 201


async def test_an_unknown_user_is_404(client: Client, admin: Account) -> None:
    assert_problem(await client.get("/users/no-such-user", headers=admin.headers), 404)
    patched = await client.patch(
        "/users/no-such-user", json={"role": "staff"}, headers=admin.headers
    )
    assert_problem(patched, 404)


async def test_an_admin_cannot_lock_themselves_out(client: Client, admin: Account) -> None:
    demote = await client.patch(f"/users/{admin.id}", json={"role": "staff"}, headers=admin.headers)
    disable = await client.patch(
        f"/users/{admin.id}", json={"is_active": False}, headers=admin.headers
    )

    assert_problem(demote, 409)
    assert_problem(disable, 409)


async def test_a_role_must_be_one_of_the_three(
    client: Client, admin: Account, customer: Account
) -> None:
    response = await client.patch(
        f"/users/{customer.id}", json={"role": "superuser"}, headers=admin.headers
    )

    assert error_fields(response) == {"role"}


@pytest.mark.parametrize("who", ["customer", "staff"])
async def test_only_admins_administer_users(
    client: Client, customer: Account, staff: Account, who: str
) -> None:
    caller = {"customer": customer, "staff": staff}[who]
    victim = await register(client, "victim@example.com")

    responses = [
        await client.get("/users", headers=caller.headers),
        await client.get(f"/users/{victim.id}", headers=caller.headers),
        await client.patch(f"/users/{victim.id}", json={"role": "admin"}, headers=caller.headers),
        await client.patch(f"/users/{caller.id}", json={"role": "admin"}, headers=caller.headers),
    ]

    for response in responses:
        assert_problem(response, 403)
