// The customer journey and the main refusals through a client generated from hexmart's
// served OpenAPI document (openapi-typescript types, openapi-fetch calls). tsc --strict
// checks every call against the document; Node's test runner runs it against the shop at
// SHOP_URL, signing the admin in with ADMIN_EMAIL and ADMIN_PASSWORD.
import assert from "node:assert/strict";
import { test } from "node:test";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Address = components["schemas"]["ShippingAddress"];

const baseUrl = process.env.SHOP_URL ?? "";
const password = "correct horse battery staple";
const address: Address = {
  name: "Tia Script",
  line1: "1 Main St",
  city: "Springfield",
  postal_code: "12345",
  country: "US",
};

function client(token?: string) {
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  return createClient<paths>({ baseUrl, headers });
}

async function register(email: string): Promise<string> {
  const { data, response } = await client().POST("/auth/register", {
    body: { email, password, full_name: "Tia Script" },
  });
  assert.equal(response.status, 201);
  assert.ok(data);
  return data.access_token;
}

async function firstProduct(): Promise<components["schemas"]["Product"]> {
  const { data } = await client().GET("/products", {
    params: { query: { limit: 1, in_stock: true } },
  });
  const product = data?.items[0];
  assert.ok(product);
  return product;
}

async function waitUntilPaid(token: string, orderId: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { data } = await client(token).GET("/orders/{order_id}", {
      params: { path: { order_id: orderId } },
    });
    if (data?.status === "paid") return;
    assert.ok(Date.now() < deadline, `order ${orderId} is still ${data?.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test("a customer buys, pays and is refunded", async () => {
  const tia = await register(`tia-${Date.now()}@example.com`);
  const product = await firstProduct();

  const cart = await client(tia).PUT("/cart/items/{product_id}", {
    params: { path: { product_id: product.id } },
    body: { quantity: 2 },
  });
  assert.equal(cart.data?.total.amount, 2 * product.price.amount);

  const placed = await client(tia).POST("/orders", {
    params: { header: { "Idempotency-Key": `ts-${Date.now()}` } },
    body: { shipping_address: address },
  });
  assert.equal(placed.response.status, 201);
  assert.ok(placed.data);
  const orderId = placed.data.order.id;
  await waitUntilPaid(tia, orderId);

  const signedIn = await client().POST("/auth/login", {
    body: { email: process.env.ADMIN_EMAIL ?? "", password: process.env.ADMIN_PASSWORD ?? "" },
  });
  assert.ok(signedIn.data);
  const refunded = await client(signedIn.data.access_token).POST("/orders/{order_id}/refunds", {
    params: { path: { order_id: orderId } },
    body: { amount: { amount: 300, currency: "USD" }, reason: "late" },
  });
  assert.equal(refunded.response.status, 201);
  assert.equal(refunded.data?.refunded_amount.amount, 300);
});

test("the main refusals are typed problems", async () => {
  const stamp = Date.now();
  const tia = await register(`tia-refused-${stamp}@example.com`);
  const max = await register(`max-refused-${stamp}@example.com`);
  const product = await firstProduct();
  await client(tia).PUT("/cart/items/{product_id}", {
    params: { path: { product_id: product.id } },
    body: { quantity: 1 },
  });
  const key = `ts-refused-${stamp}`;
  const placed = await client(tia).POST("/orders", {
    params: { header: { "Idempotency-Key": key } },
    body: { shipping_address: address },
  });
  assert.ok(placed.data);
  const order = { params: { path: { order_id: placed.data.order.id } } };

  const noToken = await client().GET("/orders/{order_id}", order);
  const notAdmin = await client(tia).POST("/orders/{order_id}/refunds", { ...order, body: {} });
  const notYours = await client(max).GET("/orders/{order_id}", order);
  const reused = await client(tia).POST("/orders", {
    params: { header: { "Idempotency-Key": key } },
    body: { shipping_address: { ...address, city: "Shelbyville" } },
  });

  assert.equal(noToken.response.status, 401);
  assert.equal(notAdmin.response.status, 403);
  assert.equal(notYours.response.status, 404);
  assert.equal(notYours.error?.type, "urn:hexmart:problem:not-found");
  assert.equal(reused.response.status, 409);
  assert.equal(reused.error?.type, "urn:hexmart:problem:idempotency-key-reused");
});
