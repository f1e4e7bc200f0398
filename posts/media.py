"""Post media use the project's image pipeline (calendar_project.imaging)."""

from calendar_project.imaging import THUMBNAIL_SIZE, ImageFormat, ProcessedImage, image_process

__all__ = ["THUMBNAIL_SIZE", "ImageFormat", "ProcessedImage", "image_process"]
