"""/orders: checkout, order history, fulfilment, cancellation and refunds."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from application.orders import MAX_IDEMPOTENCY_KEY_LENGTH, Orders
from application.ports.persistence import OrderQuery
from application.principal import STAFF_ROLES, Principal
from application.refunds import Refunds
from domain.orders import OrderStatus
from domain.users import Scope
from entrypoints.http.dependencies import Injected
from entrypoints.http.metrics import ShopMetrics
from entrypoints.http.openapi_responses import problems
from entrypoints.http.schemas.common import Cursor, Limit, money_in, page_request
from entrypoints.http.schemas.orders import (
    Checkout,
    Order,
    OrderDetail,
    OrderPage,
    PaymentList,
    PlacedOrder,
    RefundRequest,
    Shipment,
    order_detail_out,
    order_out,
    payment_record_out,
    placed_order_out,
)
from entrypoints.http.security import (
    ADMIN,
    ALL_ROLES,
    STAFF,
    USER_ONLY,
    USER_OR_API_KEY,
    allow,
    signed_in_user,
)

order_readers = allow(ALL_ROLES, Scope.ORDERS_READ)
order_fulfilment = allow(STAFF, Scope.ORDERS_WRITE)
administrators = allow(ADMIN)

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
        description="Any unique string per checkout; a retry with the same key and body "
        "returns the same order, never a second one.",
    ),
]
StatusFilter = Annotated[OrderStatus | None, QueryParameter(description="only this status")]


class OrdersController(Controller):
    path = "/orders"
    tags = ["orders"]

    @post(
        "/",
        status_code=201,
        guards=[signed_in_user],
        security=USER_ONLY,
        responses=problems(401, 403, 409, 413, 503),
    )
    async def place_order(
        self,
        data: JSONBody[Checkout],
        idempotency_key: IdempotencyKey,
        orders: Injected[Orders],
        principal: Injected[Principal],
        metrics: Injected[ShopMetrics],
    ) -> PlacedOrder:
        """A signed-in user: turn the cart into an order, reserve its stock and start its
        payment. 409 when something is out of stock or the cart is empty."""
        placed = await orders.place_order(
            principal,
            idempotency_key=idempotency_key,
            shipping_address=data.shipping_address.value(),
        )
        metrics.order_placed()
        return placed_order_out(placed)

    @get("/", guards=[order_readers], security=USER_OR_API_KEY, responses=problems(401, 403))
    async def list_orders(
        self,
        orders: Injected[Orders],
        principal: Injected[Principal],
        status: StatusFilter = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> OrderPage:
        """Users: their own orders, newest first. Staff, admins and `orders:read` keys:
        every order."""
        page = await orders.list_orders(
            principal, OrderQuery(status=status, page=page_request(limit, cursor))
        )
        return OrderPage(items=[order_out(o) for o in page.items], next_cursor=page.next_cursor)

    @get(
        "/{order_id:str}",
        guards=[order_readers],
        security=USER_OR_API_KEY,
        responses=problems(401, 403, 404),
    )
    async def get_order(
        self,
        order_id: FromPath[str],
        orders: Injected[Orders],
        principal: Injected[Principal],
    ) -> OrderDetail:
        """The owner, staff, admins and `orders:read` keys; 404 for anyone else. With the
        order's history of status changes and who made them."""
        order = await orders.get_order(principal, order_id)
        history = await orders.history(principal, order_id)
        full = principal.may(STAFF_ROLES, Scope.ORDERS_READ)
        return order_detail_out(order, history, full_actors=full)

    @post(
        "/{order_id:str}/cancel",
        status_code=200,
        guards=[signed_in_user],
        security=USER_ONLY,
        responses=problems(401, 403, 404, 409, 503),
    )
    async def cancel_order(
        self,
        order_id: FromPath[str],
        orders: Injected[Orders],
        principal: Injected[Principal],
    ) -> Order:
        """The owner (while pending or paid), staff and admins: cancel, release the stock,
        refund in full if paid."""
        return order_out(await orders.cancel_order(principal, order_id))

    @post(
        "/{order_id:str}/ship",
        status_code=200,
        guards=[order_fulfilment],
        security=USER_OR_API_KEY,
        responses=problems(401, 403, 404, 409, 413),
    )
    async def ship_order(
        self,
        order_id: FromPath[str],
        orders: Injected[Orders],
        principal: Injected[Principal],
        data: JSONBody[Shipment | None] = None,
    ) -> Order:
        """Staff, admins and `orders:write` keys: paid → shipped."""
        tracking_number = data.tracking_number if data is not None else None
        return order_out(await orders.ship_order(principal, order_id, tracking_number))

    @post(
        "/{order_id:str}/deliver",
        status_code=200,
        guards=[order_fulfilment],
        security=USER_OR_API_KEY,
        responses=problems(401, 403, 404, 409),
    )
    async def deliver_order(
        self,
        order_id: FromPath[str],
        orders: Injected[Orders],
        principal: Injected[Principal],
    ) -> Order:
        """Staff, admins and `orders:write` keys: shipped → delivered."""
        return order_out(await orders.deliver_order(principal, order_id))

    @post(
        "/{order_id:str}/refunds",
        status_code=201,
        guards=[administrators],
        security=USER_ONLY,
        responses=problems(
            401,
            403,
            404,
            413,
            422,
            503,
            on_409="The order cannot be refunded in its status; or (`earlier-refund-recovered`) "
            "an earlier refund whose answer was lost went through and is now recorded, this "
            "one was not made: send it again if it is still wanted",
        ),
    )
    async def refund_order(
        self,
        order_id: FromPath[str],
        refunds: Injected[Refunds],
        principal: Injected[Principal],
        data: JSONBody[RefundRequest | None] = None,
    ) -> Order:
        """Admins: refund all that is left (no `amount`) or part of a paid, shipped or
        delivered order. Refunds never add up to more than was paid."""
        request = data or RefundRequest()
        amount = money_in("amount", request.amount) if request.amount is not None else None
        order = await refunds.refund_order(principal, order_id, amount, request.reason)
        return order_out(order)

    @get(
        "/{order_id:str}/payments",
        guards=[signed_in_user],
        security=USER_ONLY,
        responses=problems(401, 403, 404),
    )
    async def list_payments(
        self,
        order_id: FromPath[str],
        orders: Injected[Orders],
        principal: Injected[Principal],
    ) -> PaymentList:
        """The owner, staff and admins: the order's payment records with their refunds."""
        found = await orders.list_payments(principal, order_id)
        return PaymentList(
            items=[payment_record_out(p, show_secret=p.user_id == principal.user_id) for p in found]
        )
