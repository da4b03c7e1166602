"""Every address of the shop, included at the site's root: the employees' under /shop/, the
administrators' beside the ledger's screens under /bonuses/."""

from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("shop/", views.CatalogView.as_view(), name="catalog"),
    path("shop/gifts/<int:pk>/order/", views.OrderCreateView.as_view(), name="order-create"),
    path("shop/orders/", views.MyOrderListView.as_view(), name="my-order-list"),
    path("shop/orders/<int:pk>/cancel/", views.MyOrderCancelView.as_view(), name="my-order-cancel"),
    path("bonuses/orders/", views.OrderListView.as_view(), name="order-list"),
    path("bonuses/orders/new/", views.DeskOrderCreateView.as_view(), name="order-desk"),
    path("bonuses/orders/<int:pk>/<str:action>/", views.OrderActionView.as_view(), name="order-action"),
    path("bonuses/gifts/", views.GiftListView.as_view(), name="gift-list"),
    path("bonuses/gifts/new/", views.GiftCreateView.as_view(), name="gift-create"),
    path("bonuses/gifts/<int:pk>/", views.GiftUpdateView.as_view(), name="gift-update"),
    path("bonuses/gifts/<int:pk>/delete/", views.GiftDeleteView.as_view(), name="gift-delete"),
]
