from django.urls import path

from . import shop_views, views

app_name = "bonuses"

urlpatterns = [
    path("accrual/", views.AccrualTableView.as_view(), name="accrual-list"),
    path("accrual/<int:pk>/add/", views.AccrualCreateView.as_view(), name="accrual-create"),
    path("accrual/bulk/", views.AccrualBulkView.as_view(), name="accrual-bulk"),
    path("write-off/", views.WriteOffCreateView.as_view(), name="write-off"),
    path("write-off/available/", views.AvailableBalanceView.as_view(), name="write-off-available"),
    path("employees/autocomplete/", views.EmployeeAutocompleteView.as_view(), name="employee-autocomplete"),
    path("log/", views.LogListView.as_view(), name="log-list"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/currency/<int:pk>/", views.CurrencySettingsView.as_view(), name="currency-settings"),
    path("orders/", shop_views.OrderListView.as_view(), name="order-list"),
    path("orders/new/", shop_views.DeskOrderCreateView.as_view(), name="order-desk"),
    path("orders/<int:pk>/<str:action>/", shop_views.OrderActionView.as_view(), name="order-action"),
    path("gifts/", shop_views.GiftListView.as_view(), name="gift-list"),
    path("gifts/new/", shop_views.GiftCreateView.as_view(), name="gift-create"),
    path("gifts/<int:pk>/", shop_views.GiftUpdateView.as_view(), name="gift-update"),
    path("gifts/<int:pk>/delete/", shop_views.GiftDeleteView.as_view(), name="gift-delete"),
]
