from django.urls import path

from . import views

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
]
