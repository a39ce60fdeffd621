"""Domain errors. The API maps each one to an HTTP status in one place (`trayscan.api.errors`)."""

from __future__ import annotations


class TrayscanError(Exception):
    """Base of every error the service reports to its caller; `code` is a stable machine-readable name."""

    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnsupportedImageError(TrayscanError):
    """The upload is not an image in an accepted format."""

    code = "unsupported_image"


class CorruptImageError(TrayscanError):
    """The upload looks like an accepted image but cannot be decoded."""

    code = "corrupt_image"


class ImageTooLargeError(TrayscanError):
    """The upload is over the byte or pixel limit."""

    code = "image_too_large"


class InvalidRequestError(TrayscanError):
    """A request that is well-formed but cannot be served as asked (for example too many photos)."""

    code = "invalid_request"


class NoItemFoundError(TrayscanError):
    """An enrolment photo in which nothing could be cropped."""

    code = "no_item_found"


class ProductNotFoundError(TrayscanError):
    code = "product_not_found"


class ImageNotFoundError(TrayscanError):
    code = "image_not_found"


class ReceiptNotFoundError(TrayscanError):
    code = "receipt_not_found"


class IdempotencyKeyReusedError(TrayscanError):
    """An Idempotency-Key already answered a different request."""

    code = "idempotency_key_reused"


class IdempotencyKeyInUseError(TrayscanError):
    """The first request with this Idempotency-Key is still running: retry in a moment."""

    code = "idempotency_key_in_use"


class ProductExistsError(TrayscanError):
    code = "product_exists"


class CurrencyMismatchError(TrayscanError):
    """A tray whose products are priced in different currencies cannot be billed on one receipt."""

    code = "currency_mismatch"


class GalleryEmptyError(TrayscanError):
    """No product has been enrolled yet, so nothing can be recognised."""

    code = "gallery_empty"


class ServiceNotReadyError(TrayscanError):
    """Models, gallery or catalog are not loaded (yet)."""

    code = "not_ready"


class ItemNotFoundError(TrayscanError):
    """A receipt has no item of that number."""

    code = "item_not_found"


class PhotoNotKeptError(TrayscanError):
    """The receipt's tray photo was not kept (feedback.keep_photos off) or has expired: nothing to crop."""

    code = "photo_not_kept"


class ConfusableCropError(TrayscanError):
    """A tray crop that, enrolled for one SKU, would lie among another SKU's gallery photos."""

    code = "confusable_crop"
