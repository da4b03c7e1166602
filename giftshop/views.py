from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.http import content_disposition_header
from django.views.generic import TemplateView
from django.views.static import serve

# Raster pictures, which a browser only ever shows. Anything else (an SVG, or an HTML page that
# reached MEDIA_ROOT some other way) could run script on our origin: it is only ever downloaded.
INLINE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "home.html"


def media(request, path):
    """Gift pictures. A small catalog is served by Django; a front proxy may serve MEDIA_ROOT itself,
    with the same rule: pictures inline, anything else as a download, and nosniff on both."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    if response.status_code == 200 and response["Content-Type"].split(";")[0].strip() not in INLINE_TYPES:
        response["Content-Type"] = "application/octet-stream"
        response["Content-Disposition"] = content_disposition_header(True, PurePosixPath(path).name)
    response["X-Content-Type-Options"] = "nosniff"
    # Not personal, and a new picture gets a new name: a day in any cache is fine.
    response["Cache-Control"] = "max-age=86400"
    return response
