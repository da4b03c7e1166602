"""The ledger's screens under /bonuses/ (app_name "bonuses"). The employee's balance page is at the
site's root (giftshop/urls.py); the shop's administrators' screens are in bonuses/shop/urls.py."""

from django.urls import path

from .views import (
    accounts,
    accrual,
    approvals,
    batches,
    budgets,
    campaigns,
    currency_settings,
    log,
    segments,
    write_off,
)

app_name = "bonuses"

urlpatterns = [
    path("accrual/", accrual.AccrualListView.as_view(), name="accrual-list"),
    path("accrual/<int:pk>/add/", accrual.AccrualCreateView.as_view(), name="accrual-create"),
    path("accrual/<int:pk>/state/", accounts.AccountStateView.as_view(), name="account-state"),
    path("accrual/bulk/", accrual.AccrualBulkView.as_view(), name="accrual-bulk"),
    path("write-off/", write_off.WriteOffCreateView.as_view(), name="write-off"),
    path("write-off/available/", write_off.AvailableBalanceView.as_view(), name="write-off-available"),
    path("employees/autocomplete/", accrual.EmployeeAutocompleteView.as_view(), name="employee-autocomplete"),
    path("log/", log.LogListView.as_view(), name="log-list"),
    path("batches/<int:pk>/", batches.BatchDetailView.as_view(), name="batch-detail"),
    path("budget/", budgets.MyBudgetView.as_view(), name="my-budget"),
    path("budgets/", budgets.BudgetListView.as_view(), name="budget-list"),
    path("budgets/<int:pk>/change/", budgets.BudgetChangeView.as_view(), name="budget-change"),
    path("budgets/bulk/", budgets.BudgetBulkChangeView.as_view(), name="budget-bulk"),
    path("approvals/", approvals.ApprovalListView.as_view(), name="approval-list"),
    path("approvals/<int:pk>/approve/", approvals.ApproveView.as_view(), name="approval-approve"),
    path("approvals/<int:pk>/reject/", approvals.RejectView.as_view(), name="approval-reject"),
    path("requests/", approvals.MyRequestListView.as_view(), name="my-requests"),
    path("settings/", currency_settings.SettingsView.as_view(), name="settings"),
    path("settings/currency/new/", currency_settings.CurrencyCreateView.as_view(), name="currency-create"),
    path("settings/currency/<int:pk>/", currency_settings.CurrencySettingsView.as_view(), name="currency-settings"),
    path("segments/", segments.SegmentListView.as_view(), name="segment-list"),
    path("segments/new/", segments.SegmentCreateView.as_view(), name="segment-create"),
    path("segments/<int:pk>/", segments.SegmentDetailView.as_view(), name="segment-detail"),
    path("segments/<int:pk>/edit/", segments.SegmentUpdateView.as_view(), name="segment-update"),
    path("campaigns/", campaigns.CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/new/", campaigns.CampaignCreateView.as_view(), name="campaign-create"),
    path("campaigns/<int:pk>/", campaigns.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaigns.CampaignUpdateView.as_view(), name="campaign-update"),
    path(
        "campaigns/<int:pk>/<str:action>/",
        campaigns.CampaignActionView.as_view(),
        name="campaign-action",
    ),
]
