"""/auth over HTTP: sign-up, sign-in, refresh rotation and reuse, sign-out, password reset,
and what a deactivated account can no longer do."""

from __future__ import annotations

import httpx
from litestar import Litestar

from entrypoints.container import Container
from tests.entrypoints.http.shop_api import (
    PASSWORD,
    Account,
    Client,
    assert_problem,
    emailed_reset_token,
    error_fields,
    login,
)


async def test_registering_creates_a_customer_and_signs_them_in(client: Client) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": "Ann@Example.com", "password": PASSWORD, "full_name": "Ann Archer"},
    )

    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    user = body["user"]
    assert {"id", "email", "full_name", "role", "created_at", "updated_at"} <= set(user)
    assert user["email"] == "ann@example.com"
    assert user["role"] == "customer"
    assert user["created_at"].endswith("Z")
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == user["id"]


async def test_registration_cannot_choose_a_role(client: Client) -> None:
    response = await client.post(
        "/auth/register",
        json={
            "email": "eve@example.com",
            "password": PASSWORD,
            "full_name": "Eve",
            "role": "admin",
        },
    )

    assert error_fields(response) == {"role"}


async def test_an_email_registers_once(client: Client, customer: Account) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": customer.email.upper(), "password": PASSWORD, "full_name": "Again"},
    )

    assert assert_problem(response, 409)["type"].endswith("email-taken")


async def test_weak_passwords_and_bad_emails_are_refused_by_field(client: Client) -> None:
    short = await client.post(
        "/auth/register", json={"email": "a@example.com", "password": "short", "full_name": "A"}
    )
    common = await client.post(
        "/auth/register",
        json={"email": "a@example.com", "password": "password123", "full_name": "A"},
    )
    email = await client.post(
        "/auth/register", json={"email": "not-an-email", "password": PASSWORD, "full_name": "A"}
    )

    assert error_fields(short) == {"password"}
    assert error_fields(common) == {"password"}
    assert error_fields(email) == {"email"}


async def test_login_with_the_right_password(client: Client, customer: Account) -> None:
    account = await login(client, customer.email)

    assert account.id == customer.id
    assert account.access_token != customer.access_token


async def test_wrong_password_and_unknown_email_look_the_same(
    client: Client, customer: Account
) -> None:
    wrong = await client.post(
        "/auth/login", json={"email": customer.email, "password": "not the password!"}
    )
    unknown = await client.post(
        "/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )

    for response in (wrong, unknown):
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert body["detail"] == "invalid email or password"


async def test_someone_elses_wrong_guesses_do_not_lock_the_owner_out(
    app: Litestar, client: Client, customer: Account
) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as attacker:
        guesses = [
            await attacker.post(
                "/auth/login", json={"email": customer.email, "password": f"guess {n} for ann"}
            )
            for n in range(6)
        ]
        right_from_the_attacker = await attacker.post(
            "/auth/login", json={"email": customer.email, "password": PASSWORD}
        )

    assert [g.status_code for g in guesses] == [401] * 5 + [429]
    assert_problem(right_from_the_attacker, 429)
    assert (await login(client, customer.email)).id == customer.id


async def test_refresh_rotates_the_pair(client: Client, customer: Account) -> None:
    response = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})

    assert response.status_code == 200
    body = response.json()
    assert body["refresh_token"] != customer.refresh_token
    assert body["user"]["id"] == customer.id
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    client: Client, customer: Account
) -> None:
    first = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    newest = first.json()["refresh_token"]

    reuse = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    after = await client.post("/auth/refresh", json={"refresh_token": newest})

    assert_problem(reuse, 401)
    assert_problem(after, 401)


async def test_a_garbled_refresh_token_is_refused(client: Client) -> None:
    response = await client.post("/auth/refresh", json={"refresh_token": "nonsense"})

    assert_problem(response, 401)


async def test_logout_spends_the_refresh_token(client: Client, customer: Account) -> None:
    response = await client.post(
        "/auth/logout", json={"refresh_token": customer.refresh_token}, headers=customer.headers
    )
    refresh = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})

    assert response.status_code == 204
    assert_problem(refresh, 401)


async def test_logout_needs_a_signed_in_user_and_cannot_end_someone_elses_session(
    client: Client, customer: Account, other_customer: Account
) -> None:
    anonymous = await client.post("/auth/logout", json={"refresh_token": customer.refresh_token})
    by_other = await client.post(
        "/auth/logout",
        json={"refresh_token": customer.refresh_token},
        headers=other_customer.headers,
    )
    garbled = await client.post(
        "/auth/logout", json={"refresh_token": "garbled"}, headers=customer.headers
    )
    still = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})

    assert_problem(anonymous, 401)
    assert by_other.status_code == 204
    assert error_fields(garbled) == {"refresh_token"}
    assert still.status_code == 200


async def test_password_reset_answers_the_same_for_unknown_emails(
    client: Client, customer: Account
) -> None:
    known = await client.post("/auth/password-reset", json={"email": customer.email})
    unknown = await client.post("/auth/password-reset", json={"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content


async def test_password_reset_with_the_emailed_token(
    client: Client, container: Container, customer: Account
) -> None:
    await client.post("/auth/password-reset", json={"email": customer.email})
    token = await emailed_reset_token(container, customer.email)
    new_password = "a brand new passphrase"

    confirmed = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    again = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    old_session = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    old_password = await client.post(
        "/auth/login", json={"email": customer.email, "password": PASSWORD}
    )

    assert confirmed.status_code == 204
    assert_problem(again, 401)
    assert_problem(old_session, 401)
    assert_problem(old_password, 401)
    assert (await login(client, customer.email, new_password)).id == customer.id


async def test_an_access_token_from_before_a_password_reset_is_refused_at_once(
    client: Client, container: Container, customer: Account
) -> None:
    laptop = await login(client, customer.email)
    assert (await client.get("/users/me", headers=customer.headers)).status_code == 200
    await client.post("/auth/password-reset", json={"email": customer.email})
    token = await emailed_reset_token(container, customer.email)

    confirmed = await client.post(
        "/auth/password-reset/confirm",
        json={"token": token, "new_password": "a brand new passphrase"},
    )
    # Signed in again at once: in the same second as the reset, and it must work.
    after = await login(client, customer.email, "a brand new passphrase")

    assert confirmed.status_code == 204
    for before in (customer, laptop):
        assert_problem(await client.get("/users/me", headers=before.headers), 401)
        refresh = await client.post("/auth/refresh", json={"refresh_token": before.refresh_token})
        assert_problem(refresh, 401)
    assert (await client.get("/users/me", headers=after.headers)).json()["id"] == customer.id
    refreshed = await client.post("/auth/refresh", json={"refresh_token": after.refresh_token})
    assert refreshed.status_code == 200


async def test_a_deactivated_user_is_locked_out_at_once(
    client: Client, admin: Account, customer: Account
) -> None:
    response = await client.patch(
        f"/users/{customer.id}", json={"is_active": False}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    login_attempt = await client.post(
        "/auth/login", json={"email": customer.email, "password": PASSWORD}
    )
    assert assert_problem(login_attempt, 401)["type"].endswith("account-disabled")
    assert_problem(await client.get("/users/me", headers=customer.headers), 401)
    refresh = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    assert_problem(refresh, 401)


async def test_a_reactivated_user_can_sign_in_again(
    client: Client, admin: Account, customer: Account
) -> None:
    for active in (False, True):
        await client.patch(
            f"/users/{customer.id}", json={"is_active": active}, headers=admin.headers
        )

    again = await login(client, customer.email)
    assert (await client.get("/users/me", headers=again.headers)).status_code == 200
    # What was issued before the deactivation stays dead.
    assert_problem(await client.get("/users/me", headers=customer.headers), 401)
    refresh = await client.post("/auth/refresh", json={"refresh_token": customer.refresh_token})
    assert_problem(refresh, 401)
