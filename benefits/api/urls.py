"""The benefits app's API routes (basenames carry the `api-` prefix like the other apps')."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
