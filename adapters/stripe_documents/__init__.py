"""Stripe's JSON documents (payment intents and events, as Stripe's API and webhooks send
them), read into the port's terms and written from them: shared by the Stripe gateway and
its in-memory double, so that the double's webhooks are exactly what the gateway reads."""
