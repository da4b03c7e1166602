from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from bonuses.views.balance import MyBalanceView

from .views import HomeView, media

admin.site.site_header = _("Gift shop administration")
admin.site.site_title = _("Gift shop")

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("bonuses/", include("bonuses.urls")),
    path("", include("bonuses.shop.urls")),  # /shop/…, and the administrators' /bonuses/orders/… and /bonuses/gifts/…
    path("account/balance/", MyBalanceView.as_view(), name="my-balance"),
    path("admin/", admin.site.urls),
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", media, name="media"),
]
