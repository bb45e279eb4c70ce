"""Product images: staff send an image straight to file storage with a presigned URL,
then say so; the image then shows on the product.

Nothing is stored between the request and its completion. The image id says what was
requested: `<id>-<digest>`, where the digest is a hash of the announced content type and
size, and the object key is `products/<product id>/images/<image id>`. Completing looks
the object up (`head`) and recomputes the digest from what is really there, so an object
of another type or size than announced is refused, even on storage (S3) whose presigned
URLs do not pin them. Only a URL this service presigned can put an object under such a
key, so a made-up image id finds nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from application.catalog import announce_catalog_change
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Cache, Clock, IdGenerator
from application.ports.storage import FileStorage
from application.principal import STAFF_ROLES, Principal
from application.transactions import in_transaction
from application.uploads import RequestedUpload, UploadPolicy
from domain.catalog import Product, ProductImage
from domain.errors import Conflict, NotFound, RuleViolation
from domain.uploads import display_filename

_DIGEST_LENGTH = 16
_IMAGE_ID = re.compile(rf"^([A-Za-z0-9_-]{{1,40}})-([0-9a-f]{{{_DIGEST_LENGTH}}})$")


def _digest(content_type: str | None, size: int) -> str:
    announced = f"{(content_type or '').split(';', 1)[0].strip().lower()}\n{size}"
    return hashlib.sha256(announced.encode()).hexdigest()[:_DIGEST_LENGTH]


@dataclass(frozen=True, slots=True)
class _PendingImage:
    image_id: str
    digest: str
    storage_key: str


def _pending(product_id: str, image_id: str) -> _PendingImage:
    """What an image id of ours says; NotFound for anything else."""
    match = _IMAGE_ID.match(image_id) if isinstance(image_id, str) else None
    if match is None:
        raise NotFound("image", str(image_id))
    return _PendingImage(image_id, match.group(2), image_key(product_id, image_id))


def image_key(product_id: str, image_id: str) -> str:
    return f"products/{product_id}/images/{image_id}"


class ProductImages:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        storage: FileStorage,
        clock: Clock,
        ids: IdGenerator,
        policy: UploadPolicy,
        cache: Cache | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._storage = storage
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._cache = cache

    async def request_image_upload(
        self, actor: Principal, product_id: str, filename: str, content_type: str, size: int
    ) -> RequestedUpload:
        """Staff and admins: a presigned upload for a new image of an active product.

        InvalidValue (400) for a content type outside the allowed list, a size over the
        limit or an empty file name; NotFound for an unknown or archived product."""
        actor.require(STAFF_ROLES)
        display_filename(filename)
        content_type = self._policy.check(content_type, size)
        await self._get_active(product_id)
        image_id = f"{self._ids.new_id()}-{_digest(content_type, size)}"
        presigned = await self._storage.presign_upload(
            image_key(product_id, image_id),
            content_type=content_type,
            size=size,
            expires_in=self._policy.upload_expires_in,
        )
        return RequestedUpload(id=image_id, presigned=presigned)

    async def complete_image_upload(
        self, actor: Principal, product_id: str, image_id: str
    ) -> Product:
        """Staff and admins: add the uploaded image to the product (again: no change).

        Conflict (409) while nothing is uploaded yet; RuleViolation (422) if the object
        is not of the announced size and type (it is then deleted, and the client may
        upload again while its URL lasts); NotFound for an unknown product or image id."""
        actor.require(STAFF_ROLES)
        pending = _pending(product_id, image_id)
        product = await self._get_active(product_id)
        if any(image.id == image_id for image in product.images):
            return product
        stored = await self._storage.head(pending.storage_key)
        if stored is None:
            raise Conflict(f"image {image_id} is not uploaded yet")
        if _digest(stored.content_type, stored.size) != pending.digest:
            await self._storage.delete(pending.storage_key)
            raise RuleViolation(
                f"the uploaded file ({stored.size} bytes of {stored.content_type}) is not "
                "the size and content type announced for this image"
            )

        async def add(uow: UnitOfWork) -> Product:
            current = await self._active(uow, product_id)
            now = self._clock.now()
            image = ProductImage(image_id, pending.storage_key, stored.content_type or "", now)
            current.add_image(image, now)
            await uow.products.save(current)
            return current

        completed = await in_transaction(self._uow_factory, add)
        await self._changed()
        return completed

    async def delete_image(self, actor: Principal, product_id: str, image_id: str) -> None:
        """Staff and admins: take the image off the product and out of storage.
        NotFound for an unknown product, or an image the product does not have."""
        actor.require(STAFF_ROLES)

        async def remove(uow: UnitOfWork) -> ProductImage:
            product = await self._active(uow, product_id)
            removed = product.remove_image(image_id, self._clock.now())
            if removed is None:
                raise NotFound("image", image_id)
            await uow.products.save(product)
            return removed

        removed = await in_transaction(self._uow_factory, remove)
        # After the commit: a failed delete leaves an orphan object, never a broken image.
        await self._storage.delete(removed.storage_key)
        await self._changed()

    async def image_urls(self, products: Iterable[Product]) -> dict[str, str]:
        """A download URL for every image of `products`, by image id."""
        urls: dict[str, str] = {}
        for product in products:
            for image in product.images:
                urls[image.id] = await self._storage.presign_download(
                    image.storage_key, expires_in=self._policy.image_url_expires_in
                )
        return urls

    async def _get_active(self, product_id: str) -> Product:
        async with self._uow_factory() as uow:
            product = await uow.products.get(product_id)
        if product is None or product.is_archived:
            raise NotFound("product", product_id)
        return product

    @staticmethod
    async def _active(uow: UnitOfWork, product_id: str) -> Product:
        product = await uow.products.get(product_id, for_update=True)
        if product is None or product.is_archived:
            raise NotFound("product", product_id)
        return product

    async def _changed(self) -> None:
        await announce_catalog_change(self._cache)
