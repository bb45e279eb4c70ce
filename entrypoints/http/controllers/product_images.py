"""/products/{id}/images: staff add images to a product through presigned uploads."""

from __future__ import annotations

from litestar import Controller, delete, post
from litestar.params import FromPath, JSONBody

from application.principal import Principal
from application.product_images import ProductImages
from domain import catalog
from entrypoints.http.dependencies import Injected
from entrypoints.http.openapi_responses import problems
from entrypoints.http.schemas.products import Product, product_out
from entrypoints.http.schemas.uploads import FileAnnouncement, ImageUpload, image_upload_out
from entrypoints.http.security import USER_ONLY, staff_only


async def product_with_images(images: ProductImages, product: catalog.Product) -> Product:
    """The product as the API shows it, with a download URL for each of its images."""
    return product_out(product, await images.image_urls([product]))


class ProductImagesController(Controller):
    path = "/products/{product_id:str}/images"
    tags = ["catalog"]

    @post(
        "/",
        status_code=201,
        guards=[staff_only],
        security=USER_ONLY,
        responses=problems(401, 403, 404, 413, on_400="A content type or size that is not allowed"),
    )
    async def request_image_upload(
        self,
        product_id: FromPath[str],
        data: JSONBody[FileAnnouncement],
        product_images: Injected[ProductImages],
        principal: Injected[Principal],
    ) -> ImageUpload:
        """Staff and admins: a presigned upload for a new image of the product. Send the
        file as it says, then complete it."""
        requested = await product_images.request_image_upload(
            principal, product_id, data.filename, data.content_type, data.size
        )
        return image_upload_out(requested)

    @post(
        "/{image_id:str}/complete",
        status_code=200,
        guards=[staff_only],
        security=USER_ONLY,
        responses=problems(
            401,
            403,
            404,
            on_409="Nothing has been uploaded for this image yet",
            on_422="The uploaded file is not the size and content type announced",
        ),
    )
    async def complete_image_upload(
        self,
        product_id: FromPath[str],
        image_id: FromPath[str],
        product_images: Injected[ProductImages],
        principal: Injected[Principal],
    ) -> Product:
        """Staff and admins: once the file is in storage, add it to the product's images."""
        product = await product_images.complete_image_upload(principal, product_id, image_id)
        return await product_with_images(product_images, product)

    @delete(
        "/{image_id:str}",
        status_code=204,
        guards=[staff_only],
        security=USER_ONLY,
        responses=problems(401, 403, 404),
    )
    async def delete_image(
        self,
        product_id: FromPath[str],
        image_id: FromPath[str],
        product_images: Injected[ProductImages],
        principal: Injected[Principal],
    ) -> None:
        """Staff and admins: remove the image from the product and from storage."""
        await product_images.delete_image(principal, product_id, image_id)
