"""/cart: the signed-in user's cart."""

from __future__ import annotations

from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody

from application.cart import Carts
from application.principal import Principal
from entrypoints.http.dependencies import Injected
from entrypoints.http.openapi_responses import problems
from entrypoints.http.schemas.cart import Cart, CartLine, cart_out
from entrypoints.http.security import USER_ONLY, signed_in_user


class CartController(Controller):
    path = "/cart"
    tags = ["cart"]
    guards = [signed_in_user]
    security = USER_ONLY

    @get("/", responses=problems(401, 403))
    async def view_cart(self, carts: Injected[Carts], principal: Injected[Principal]) -> Cart:
        """The cart at today's prices (products archived since are left out)."""
        return cart_out(await carts.view(principal))

    @put("/items/{product_id:str}", responses=problems(401, 403, 404, 409, 413, 422))
    async def set_item(
        self,
        product_id: FromPath[str],
        data: JSONBody[CartLine],
        carts: Injected[Carts],
        principal: Injected[Principal],
    ) -> Cart:
        """Put 1..99 units of a product in the cart, replacing its line."""
        return cart_out(await carts.set_item(principal, product_id, data.quantity))

    @delete(
        "/items/{product_id:str}",
        status_code=204,
        responses=problems(401, 403, on_404="The product id cannot name any product"),
    )
    async def remove_item(
        self,
        product_id: FromPath[str],
        carts: Injected[Carts],
        principal: Injected[Principal],
    ) -> None:
        """Take a product out of the cart."""
        await carts.remove_item(principal, product_id)

    @delete("/", status_code=204, responses=problems(401, 403))
    async def clear_cart(self, carts: Injected[Carts], principal: Injected[Principal]) -> None:
        """Empty the cart."""
        await carts.clear(principal)
