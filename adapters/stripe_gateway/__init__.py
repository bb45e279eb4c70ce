"""The PaymentGateway port on Stripe (or a Stripe-compatible server such as localstripe)."""

from adapters.stripe_gateway.gateway import PROVIDER, StripePaymentGateway

__all__ = ["PROVIDER", "StripePaymentGateway"]
