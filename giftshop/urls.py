from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from .views import HomeView

admin.site.site_header = _("Gift shop administration")
admin.site.site_title = _("Gift shop")

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("bonuses/", include("bonuses.urls")),
    path("admin/", admin.site.urls),
]
