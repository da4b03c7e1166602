from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView
from django.views.static import serve


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "home.html"


def media(request, path):
    """Gift pictures. A small catalog is served by Django; a front proxy may serve MEDIA_ROOT itself."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
