from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from bonuses import shop_views

from .views import HomeView, media

admin.site.site_header = _("Gift shop administration")
admin.site.site_title = _("Gift shop")

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("bonuses/", include("bonuses.urls")),
    path("shop/", shop_views.ShopView.as_view(), name="shop"),
    path("shop/gifts/<int:pk>/order/", shop_views.OrderCreateView.as_view(), name="shop-order"),
    path("shop/orders/", shop_views.MyOrdersView.as_view(), name="shop-orders"),
    path("shop/orders/<int:pk>/cancel/", shop_views.MyOrderCancelView.as_view(), name="shop-order-cancel"),
    path("account/balance/", shop_views.MyBalanceView.as_view(), name="my-balance"),
    path("admin/", admin.site.urls),
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", media, name="media"),
]
