"""The catalog: products with their price and the stock on hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import Conflict, InvalidValue, InventoryWouldGoNegative, OutOfStock
from domain.money import Money
from domain.values import required_text

MAX_INVENTORY = 10**9
MAX_DESCRIPTION_LENGTH = 10_000
MAX_SKU_LENGTH = 64


@dataclass(frozen=True, slots=True)
class ProductImage:
    id: str
    storage_key: str
    content_type: str
    created_at: datetime


def validate_price(price: Money) -> Money:
    if price.amount < 0:
        raise InvalidValue("price", "must not be negative")
    return price


def validate_inventory(count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidValue("inventory_count", "must be a whole number")
    if not 0 <= count <= MAX_INVENTORY:
        raise InvalidValue("inventory_count", f"must be between 0 and {MAX_INVENTORY}")
    return count


def category_key(category: str) -> str:
    """The form a category is stored and looked up in: trimmed and lower-cased, so that
    "Kitchen", " kitchen " and "KITCHEN" name one category."""
    return category.strip().lower()


def validate_category(category: str) -> str:
    return category_key(required_text("category", category, 100))


def searchable(text: str) -> str:
    """The form a product's name and description are searched in, and a search is
    written in: lower-cased, so that a search ignores case ("TEA" finds "Teapot")."""
    return text.lower()


def validate_description(description: str) -> str:
    if not isinstance(description, str):
        raise InvalidValue("description", "must be a string")
    text = description.strip()
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidValue("description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
    return text


def validate_sku(sku: str | None) -> str | None:
    """A stock-keeping unit: the shop's own product code (unique), printable characters
    without spaces, at most MAX_SKU_LENGTH; compared exactly as given."""
    if sku is None:
        return None
    text = required_text("sku", sku, MAX_SKU_LENGTH)
    if not text.isprintable() or any(character.isspace() for character in text):
        raise InvalidValue("sku", "must not contain spaces or control characters")
    return text


def _units(quantity: int) -> int:
    # A float or bool would otherwise slip into inventory_count (3 - 1.5, 3 - True).
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidValue("quantity", "must be positive")
    return quantity


@dataclass(kw_only=True, eq=False)
class Product:
    """A sellable item. `inventory_count` is the stock still free to reserve (never < 0).

    An archived product leaves listings and carts, but old orders keep their copy of its
    name and price.
    """

    id: str
    name: str
    description: str
    price: Money
    inventory_count: int
    category: str
    created_at: datetime
    updated_at: datetime
    is_archived: bool = False
    images: list[ProductImage] = field(default_factory=list)
    version: int = 1
    sku: str | None = None

    def __post_init__(self) -> None:
        self.name = required_text("name", self.name, 200)
        self.sku = validate_sku(self.sku)
        self.description = validate_description(
            self.description if isinstance(self.description, str) else ""
        )
        validate_price(self.price)
        validate_inventory(self.inventory_count)
        self.category = validate_category(self.category)

    @property
    def is_available(self) -> bool:
        return not self.is_archived

    def reserve(self, quantity: int) -> None:
        """Take `quantity` units out of free stock for an order."""
        _units(quantity)
        if quantity > self.inventory_count:
            raise OutOfStock(self.id, quantity, self.inventory_count)
        self.inventory_count -= quantity

    def release(self, quantity: int) -> None:
        """Give back units an order reserved (cancellation or expiry)."""
        self.inventory_count += _units(quantity)

    def adjust_inventory(self, delta: int, now: datetime) -> None:
        """Restock (positive) or correct (negative); stock never goes below zero."""
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise InvalidValue("delta", "must be a non-zero whole number")
        if self.inventory_count + delta < 0:
            raise InventoryWouldGoNegative(
                f"product {self.id} has {self.inventory_count} in stock; "
                f"a change of {delta} would make it negative"
            )
        self.inventory_count = validate_inventory(self.inventory_count + delta)
        self.touch(now)

    def change_details(
        self,
        now: datetime,
        *,
        name: str | None = None,
        description: str | None = None,
        price: Money | None = None,
        category: str | None = None,
        inventory_count: int | None = None,
        sku: str | None = None,
    ) -> None:
        if self.is_archived:
            raise Conflict(f"product {self.id} is archived")
        # Validate every field before assigning any, so a rejected change changes nothing.
        new_name = required_text("name", name, 200) if name is not None else self.name
        new_description = (
            validate_description(description) if description is not None else self.description
        )
        new_price = validate_price(price) if price is not None else self.price
        new_category = validate_category(category) if category is not None else self.category
        new_inventory = (
            validate_inventory(inventory_count)
            if inventory_count is not None
            else self.inventory_count
        )
        new_sku = validate_sku(sku) if sku is not None else self.sku
        self.name = new_name
        self.sku = new_sku
        self.description = new_description
        self.price = new_price
        self.category = new_category
        self.inventory_count = new_inventory
        self.touch(now)

    def archive(self, now: datetime) -> None:
        self.is_archived = True
        self.touch(now)

    def add_image(self, image: ProductImage, now: datetime) -> None:
        if any(existing.id == image.id for existing in self.images):
            return
        self.images.append(image)
        self.touch(now)

    def remove_image(self, image_id: str, now: datetime) -> ProductImage | None:
        for image in self.images:
            if image.id == image_id:
                self.images.remove(image)
                self.touch(now)
                return image
        return None

    def touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1
