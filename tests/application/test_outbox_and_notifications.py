"""The outbox relay and the emails it leads to: every committed event once, never twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers

from adapters.inprocess.task_runner import InProcessTaskQueue
from application.message_bus import EMAIL, LIVE_UPDATE, Handled
from application.orders import PlacedOrder
from application.outbox import HANDLE_EVENT_JOB
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import OrderUpdate
from application.ports.persistence import OutboxMessage
from domain.catalog import Product
from domain.events import event_from_record
from entrypoints.container import Container
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.application.shopping import (
    PASSWORD,
    Account,
    CartFiller,
    OrderPlacer,
    clock,
    deliver_jobs,
    emailed_reset_token,
    mailer,
    pay,
    reset_token_in,
    task_queue,
    unsent_outbox,
)

HOUR = timedelta(hours=1)

# --- the relay -----------------------------------------------------------------------------


async def test_relay_hands_every_outbox_message_to_the_queue_once(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    waiting = await unsent_outbox(shop)
    # Three registrations (admin, staff, customer), then the order.
    assert [m.name for m in waiting] == ["user_registered"] * 3 + ["order_placed"]

    relayed = await shop.outbox_relay().relay_all()
    again = await shop.outbox_relay().relay_all()

    assert (relayed, again) == (4, 0)
    jobs = task_queue(shop).jobs
    assert {job.name for job in jobs} == {HANDLE_EVENT_JOB}
    assert [job.job_id for job in jobs] == [m.id for m in waiting]
    assert [job.payload["name"] for job in jobs] == [m.name for m in waiting]
    assert jobs[-1].payload["payload"]["order_id"] == placed_order.order.id
    assert await unsent_outbox(shop) == []


async def test_relay_sends_only_what_is_new(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    await shop.outbox_relay().relay_all()
    before = len(task_queue(shop).jobs)

    await pay(shop, placed_order)
    relayed = await shop.outbox_relay().relay_all()

    assert relayed == 1
    new_jobs = task_queue(shop).jobs[before:]
    assert [job.payload["name"] for job in new_jobs] == ["order_paid"]


async def test_relay_works_through_a_backlog_in_batches(
    shop: Container, customer: Account, mug: Product, cart_with: CartFiller, place: OrderPlacer
) -> None:
    for _ in range(4):
        await cart_with((mug, 1))
        await place()
    waiting = len(await unsent_outbox(shop))

    relayed = await shop.outbox_relay().relay_all(batch=2)

    assert relayed == waiting == 3 + 4
    assert len(task_queue(shop).jobs) == waiting
    assert await unsent_outbox(shop) == []


async def test_nothing_is_marked_sent_while_the_queue_is_down(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    queue = task_queue(shop)
    waiting = await unsent_outbox(shop)
    queue.go_down()

    assert await shop.outbox_relay().relay_all() == 0

    assert await unsent_outbox(shop) == waiting
    assert queue.jobs == []
    queue.come_back()
    assert await shop.outbox_relay().relay_all() == len(waiting)
    assert [job.job_id for job in queue.jobs] == [m.id for m in waiting]


async def test_purge_drops_only_old_handled_messages(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    relayed = await deliver_jobs(shop)
    clock(shop).advance(timedelta(days=8))
    await pay(shop, placed_order)  # a new message, not handled yet
    await shop.outbox_relay().relay_all()  # ... and enqueued: still not done

    purged = await shop.maintenance().purge(timedelta(days=7))

    assert purged.handled_outbox_messages == relayed
    assert [m.name for m in await unhandled_outbox(shop)] == ["order_paid"]
    again = await shop.maintenance().purge(timedelta(days=7))
    assert again.handled_outbox_messages == 0


# --- done means handled ----------------------------------------------------------------------


async def unhandled_outbox(shop: Container) -> list[OutboxMessage]:
    async with shop.unit_of_work()() as uow:
        return await uow.outbox.list_due(1000, enqueued_before=clock(shop).now() + HOUR)


async def test_a_message_the_queue_lost_is_enqueued_again_after_the_timeout(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    relay, queue = shop.outbox_relay(), task_queue(shop)
    assert await relay.relay_all() == 4
    queue.lose_jobs()  # Redis restarted without its data: the jobs are gone

    clock(shop).advance(timedelta(seconds=299))
    assert await relay.relay_all() == 0  # not yet: the jobs may still be on their way
    clock(shop).advance(timedelta(seconds=2))
    assert await relay.relay_all() == 4
    assert [job.payload["name"] for job in queue.jobs] == ["user_registered"] * 3 + ["order_placed"]
    async with shop.unit_of_work()() as uow:
        attempts = {m.attempts for m in await uow.outbox.list_due(10, clock(shop).now() + HOUR)}
    assert attempts == {2}


async def test_a_handled_message_is_never_enqueued_again(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    await deliver_jobs(shop)
    task_queue(shop).lose_jobs()
    clock(shop).advance(timedelta(days=1))

    assert await shop.outbox_relay().relay_all() == 0
    assert await unhandled_outbox(shop) == []


async def test_a_message_whose_email_failed_stays_unhandled_and_is_enqueued_again(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    job = await _job(shop, "order_placed")
    mailer(shop).go_down()
    with pytest.raises(ServiceUnavailable):
        await shop.message_bus().handle(*job)
    mailer(shop).come_back()
    task_queue(shop).lose_jobs()  # the job's tries ran out
    clock(shop).advance(timedelta(minutes=6))

    await deliver_jobs(shop)
    await deliver_jobs(shop)

    assert [email.subject for email in mailer(shop).sent_to(customer.email)] == [
        "Welcome to hexmart",
        f"Order #{placed_order.order.number} received",
    ]
    assert await unhandled_outbox(shop) == []


async def test_a_live_update_that_could_not_be_published_leaves_its_message_unhandled(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    job = await _job(shop, "order_placed")
    updates = BrokerDown()
    shop.order_updates.override(providers.Object(updates))
    shop.live_updates.reset()
    shop.message_bus.reset()

    with pytest.raises(ServiceUnavailable):
        await shop.message_bus().handle(*job)
    assert mailer(shop).sent_to(customer.email) == []
    assert job[0] in {m.id for m in await unhandled_outbox(shop)}

    updates.down = False
    await shop.message_bus().handle(*job)
    assert job[0] not in {m.id for m in await unhandled_outbox(shop)}
    assert [update.status for update in updates.published] == ["pending"]


async def test_a_message_runs_its_effects_once_however_often_its_job_runs(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    job = await _job(shop, "order_placed")
    updates = BrokerDown(down=False)
    shop.order_updates.override(providers.Object(updates))
    shop.live_updates.reset()
    shop.message_bus.reset()

    assert await shop.message_bus().handle(*job) == Handled(True, frozenset({LIVE_UPDATE, EMAIL}))
    assert await shop.message_bus().handle(*job) == Handled(False)

    assert len(mailer(shop).sent) == 1
    assert len(updates.published) == 1


async def test_a_message_of_an_unknown_kind_stays_unhandled_for_a_version_that_knows_it(
    shop: Container,
) -> None:
    async with shop.unit_of_work()() as uow:
        await uow.outbox.add(OutboxMessage("msg-new", "gift_card_issued", {}, clock(shop).now()))
        await uow.commit()

    with pytest.raises(ValueError, match="gift_card_issued"):
        await shop.message_bus().handle("msg-new", "gift_card_issued", {})

    assert [m.id for m in await unhandled_outbox(shop)] == ["msg-new"]


async def test_the_backlog_is_the_age_of_the_oldest_unhandled_message(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    relay = shop.outbox_relay()
    clock(shop).advance(timedelta(seconds=90))
    assert await relay.oldest_unhandled_age() == timedelta(seconds=90)
    await relay.relay_all()
    assert await relay.oldest_unhandled_age() == timedelta(seconds=90)  # enqueued: not done
    await deliver_jobs(shop)
    assert await relay.oldest_unhandled_age() is None


class BrokerDown:
    """Live order updates whose broker is down until `down` is cleared."""

    def __init__(self, *, down: bool = True) -> None:
        self.down = down
        self.published: list[OrderUpdate] = []

    async def publish(self, update: OrderUpdate) -> None:
        if self.down:
            raise ServiceUnavailable("the broker is down")
        self.published.append(update)

    def subscribe(self, order_id: str) -> Any:
        raise NotImplementedError


# --- emails --------------------------------------------------------------------------------


async def _job(shop: Container, event_name: str) -> tuple[str, str, dict[str, Any]]:
    await shop.outbox_relay().relay_all()
    [job] = [j for j in task_queue(shop).jobs if j.payload["name"] == event_name]
    return job.payload["message_id"], job.payload["name"], job.payload["payload"]


async def _send_email(shop: Container, message_id: str, name: str, payload: dict[str, Any]) -> bool:
    """The notifications' handler alone, given the message decoded as the bus decodes it,
    in a transaction of its own."""
    event = event_from_record(name, payload)
    async with shop.unit_of_work()() as uow:
        sent = await shop.notifications().send_within(uow, message_id, event)
        await uow.commit()
    return sent


async def test_order_placed_sends_one_confirmation_to_the_buyer(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    job = await _job(shop, "order_placed")

    first = await _send_email(shop, *job)
    second = await _send_email(shop, *job)

    assert (first, second) == (True, False)
    [email] = mailer(shop).sent
    number = placed_order.order.number
    assert email.to == "ann@example.com"
    assert email.subject == f"Order #{number} received"
    assert "24.00 USD" in email.text_body
    assert email.html_body is not None
    assert "24.00 USD" in email.html_body


async def test_welcome_email_goes_to_the_new_user(shop: Container, customer: Account) -> None:
    assert await _send_email(shop, *await _job(shop, "user_registered"))

    [email] = mailer(shop).sent
    assert email.to == "ann@example.com"
    assert "Ann Archer" in email.text_body


async def test_password_reset_email_links_to_the_reset_page_with_a_fresh_token(
    shop: Container, customer: Account
) -> None:
    await shop.authentication().request_password_reset(customer.email)
    message_id, name, payload = await _job(shop, "password_reset_requested")

    assert await _send_email(shop, message_id, name, payload) is True

    [email] = mailer(shop).sent
    assert email.to == customer.email
    token = reset_token_in(email)
    assert token not in str(payload)
    link = f"http://127.0.0.1:8000/password-reset#token={token}"
    assert link in email.text_body
    assert email.html_body is not None
    assert f'<a href="{link}">' in email.html_body
    assert "2026-01-01 01:00 UTC" in email.text_body


async def test_the_reset_email_links_to_the_configured_page() -> None:
    shop = in_memory_container(
        settings_for_tests(password_reset_url="https://shop.example/account/reset?t={token}")
    )
    await shop.authentication().register(
        email="ann@example.com", password=PASSWORD, full_name="Ann Archer"
    )
    await shop.authentication().request_password_reset("ann@example.com")

    token = await emailed_reset_token(shop, "ann@example.com")

    [email] = [m for m in mailer(shop).sent if "Reset" in m.subject]
    assert f"https://shop.example/account/reset?t={token}" in email.text_body
    await shop.authentication().confirm_password_reset(
        token=token, new_password="a brand new passphrase"
    )


async def test_a_reset_event_delivered_twice_sends_one_email(
    shop: Container, customer: Account
) -> None:
    await shop.authentication().request_password_reset(customer.email)
    job = await _job(shop, "password_reset_requested")

    assert await _send_email(shop, *job) is True
    assert await _send_email(shop, *job) is False

    [email] = mailer(shop).sent
    await shop.authentication().confirm_password_reset(
        token=reset_token_in(email), new_password="a brand new passphrase"
    )


async def test_a_reset_email_retried_after_a_mail_outage_carries_a_working_token(
    shop: Container, customer: Account
) -> None:
    await shop.authentication().request_password_reset(customer.email)
    job = await _job(shop, "password_reset_requested")
    mailer(shop).go_down()
    with pytest.raises(ServiceUnavailable):
        await _send_email(shop, *job)

    mailer(shop).come_back()
    assert await _send_email(shop, *job) is True

    [email] = mailer(shop).sent
    await shop.authentication().confirm_password_reset(
        token=reset_token_in(email), new_password="a brand new passphrase"
    )
    await shop.authentication().login(email=customer.email, password="a brand new passphrase")


async def test_a_reset_whose_password_changed_before_sending_sends_nothing(
    shop: Container, customer: Account
) -> None:
    await shop.authentication().request_password_reset(customer.email)
    await shop.user_accounts().update_me(
        customer.principal, current_password=PASSWORD, new_password="a brand new passphrase"
    )

    assert await _send_email(shop, *await _job(shop, "password_reset_requested")) is False

    assert mailer(shop).sent == []


async def test_a_reset_that_expired_before_sending_sends_nothing(
    shop: Container, customer: Account
) -> None:
    await shop.authentication().request_password_reset(customer.email)
    clock(shop).advance(timedelta(hours=1))

    assert await _send_email(shop, *await _job(shop, "password_reset_requested")) is False

    assert mailer(shop).sent == []


async def test_a_reset_requested_before_the_upgrade_gets_a_fresh_working_link(
    shop: Container, customer: Account
) -> None:
    """Events recorded by earlier versions carried the token and the address; the token
    is ignored (it expires on its own) and a new one is issued."""
    old_payload = {
        "user_id": customer.id,
        "email": customer.email,
        "token": "an-old-token-from-the-outbox",
        "expires_at": "2026-01-01T01:00:00+00:00",
    }

    assert await _send_email(shop, "m-1", "password_reset_requested", old_payload)

    [email] = mailer(shop).sent
    assert "an-old-token-from-the-outbox" not in email.text_body
    await shop.authentication().confirm_password_reset(
        token=reset_token_in(email), new_password="a brand new passphrase"
    )


async def test_payment_and_shipping_emails_go_to_the_buyer(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    await shop.orders().ship_order(staff.principal, paid_order.order.id, "1Z999")

    await deliver_jobs(shop)

    number = paid_order.order.number
    subjects = [email.subject for email in mailer(shop).sent_to(customer.email)]
    assert subjects == [
        "Welcome to hexmart",
        f"Order #{number} received",
        f"Payment received for order #{number}",
        f"Order #{number} shipped",
    ]
    assert "1Z999" in mailer(shop).sent[-1].text_body


async def test_events_without_an_email_send_none(
    shop: Container, customer: Account, staff: Account, paid_order: PlacedOrder
) -> None:
    await shop.orders().ship_order(staff.principal, paid_order.order.id)
    await shop.orders().deliver_order(staff.principal, paid_order.order.id)

    delivered = await _send_email(shop, *await _job(shop, "order_delivered"))

    assert delivered is False
    assert mailer(shop).sent == []


async def test_mail_outage_fails_the_job_and_a_retry_sends_exactly_one(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    job = await _job(shop, "order_placed")
    mail = mailer(shop)
    mail.go_down()

    with pytest.raises(ServiceUnavailable):
        await _send_email(shop, *job)
    assert mail.sent == []

    mail.come_back()
    assert await _send_email(shop, *job) is True
    assert await _send_email(shop, *job) is False
    assert [email.subject for email in mail.sent] == [
        f"Order #{placed_order.order.number} received"
    ]


async def test_email_for_a_user_who_no_longer_exists_is_skipped(shop: Container) -> None:
    sent = await _send_email(
        shop,
        "msg-1",
        "order_paid",
        {"order_id": "o", "order_number": 1, "user_id": "gone", "amount": 1, "currency": "USD"},
    )

    assert sent is False
    assert mailer(shop).sent == []


async def test_every_order_gets_exactly_one_confirmation_end_to_end(
    shop: Container,
    customer: Account,
    mug: Product,
    cart_with: CartFiller,
    place: OrderPlacer,
) -> None:
    await cart_with((mug, 1))
    first = await place()
    queue = task_queue(shop)
    queue.go_down()
    await cart_with((mug, 1))
    second = await place()
    await shop.outbox_relay().relay_all()  # nothing goes while the queue is down
    queue.come_back()

    # The worker relays and runs every job, then does it all again (a crash and restart).
    await deliver_jobs(shop)
    await deliver_jobs(shop)

    confirmations = [
        email.subject
        for email in mailer(shop).sent_to(customer.email)
        if email.subject.endswith("received") and email.subject.startswith("Order")
    ]
    assert sorted(confirmations) == sorted(
        [f"Order #{first.order.number} received", f"Order #{second.order.number} received"]
    )


async def test_on_the_in_process_runner_a_job_that_gave_up_is_run_again_after_the_timeout(
    shop: Container, customer: Account, placed_order: PlacedOrder
) -> None:
    runner = InProcessTaskQueue({HANDLE_EVENT_JOB: shop.message_bus().handle_job}, attempts=1)
    shop.task_queue.override(providers.Object(runner))
    shop.outbox_relay.reset()
    mailer(shop).go_down()
    await shop.outbox_relay().relay_all()
    await runner.drain()  # every email failed, and the runner gave up
    mailer(shop).come_back()

    await shop.outbox_relay().relay_all()
    await runner.drain()
    assert mailer(shop).sent == []  # not yet: the jobs might still be running
    clock(shop).advance(timedelta(seconds=301))
    await shop.outbox_relay().relay_all()
    await runner.drain()

    assert sorted(email.subject for email in mailer(shop).sent_to(customer.email)) == [
        f"Order #{placed_order.order.number} received",
        "Welcome to hexmart",
    ]
    assert await unhandled_outbox(shop) == []
