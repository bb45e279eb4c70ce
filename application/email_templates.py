"""The shop's emails: each kind renders a subject, a plain-text body and an HTML body."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from application.ports.messaging import EmailMessage


@dataclass(frozen=True, slots=True)
class ShopIdentity:
    name: str = "hexmart"
    base_url: str = "http://127.0.0.1:8000"
    # The page a reset email links to; `{token}` stands for the one-time token.
    password_reset_url: str = "http://127.0.0.1:8000/password-reset#token={token}"

    def password_reset_link(self, token: str) -> str:
        return self.password_reset_url.replace("{token}", quote(token, safe=""))


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency}" if currency else str(amount)


def _message(to: str, subject: str, paragraphs: list[str], shop: ShopIdentity) -> EmailMessage:
    text = "\n\n".join([*paragraphs, f"-- {shop.name}"]) + "\n"
    body = "".join(_paragraph(p) for p in paragraphs)
    html_body = (
        f"<!doctype html><html><body>{body}<p>&mdash; {html.escape(shop.name)}</p></body></html>"
    )
    return EmailMessage(to=to, subject=subject, text_body=text, html_body=html_body)


def _paragraph(text: str) -> str:
    escaped = html.escape(text)
    if text.startswith(("https://", "http://")) and " " not in text:
        return f'<p><a href="{escaped}">{escaped}</a></p>'
    return f"<p>{escaped}</p>"


def welcome(to: str, payload: dict[str, Any], shop: ShopIdentity) -> EmailMessage:
    return _message(
        to,
        f"Welcome to {shop.name}",
        [f"Hello {payload['full_name']},", f"your {shop.name} account is ready."],
        shop,
    )


def password_reset(to: str, payload: dict[str, Any], shop: ShopIdentity) -> EmailMessage:
    """`payload["reset_link"]` is the link with its one-time token, made at send time."""
    expires_at = datetime.fromisoformat(payload["expires_at"])
    return _message(
        to,
        f"Reset your {shop.name} password",
        [
            "Someone asked to reset the password of this account. To choose a new one, "
            f"open this link before {expires_at:%Y-%m-%d %H:%M %Z}:",
            payload["reset_link"],
            "It works once. If it was not you, ignore this email: your password stays as it is.",
        ],
        shop,
    )


def order_confirmation(to: str, payload: dict[str, Any], shop: ShopIdentity) -> EmailMessage:
    number = payload["order_number"]
    return _message(
        to,
        f"Order #{number} received",
        [
            f"Thank you for your order #{number}.",
            f"Total: {_money(payload['total_amount'], payload['currency'])}.",
            "We will email you again once the payment is confirmed.",
        ],
        shop,
    )


def payment_received(to: str, payload: dict[str, Any], shop: ShopIdentity) -> EmailMessage:
    number = payload["order_number"]
    return _message(
        to,
        f"Payment received for order #{number}",
        [
            f"We received {_money(payload['amount'], payload['currency'])} for order #{number}.",
            "We are preparing it for shipping.",
        ],
        shop,
    )


def order_shipped(to: str, payload: dict[str, Any], shop: ShopIdentity) -> EmailMessage:
    number = payload["order_number"]
    tracking = payload.get("tracking_number")
    lines = [f"Order #{number} is on its way."]
    if tracking:
        lines.append(f"Tracking number: {tracking}")
    return _message(to, f"Order #{number} shipped", lines, shop)


def order_cancelled(to: str, payload: dict[str, Any], shop: ShopIdentity) -> EmailMessage:
    number = payload["order_number"]
    return _message(
        to,
        f"Order #{number} cancelled",
        [
            f"Order #{number} was cancelled ({payload['reason']}).",
            "Anything you paid is refunded to your payment method.",
        ],
        shop,
    )


def order_refunded(to: str, payload: dict[str, Any], shop: ShopIdentity) -> EmailMessage:
    number = payload["order_number"]
    return _message(
        to,
        f"Refund for order #{number}",
        [
            f"We refunded {_money(payload['amount'], payload['currency'])} for order #{number}.",
            "It may take a few days to appear on your statement.",
        ],
        shop,
    )
