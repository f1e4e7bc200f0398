"""Post media use the project's image pipeline (core.imaging)."""

from core.imaging import THUMBNAIL_SIZE, ImageFormat, ProcessedImage, image_process

__all__ = ["THUMBNAIL_SIZE", "ImageFormat", "ProcessedImage", "image_process"]
