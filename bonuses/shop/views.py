"""The shop's screens: the catalog, ordering and my orders for every employee; the orders, the gift desk
and the catalog for administrators."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import CreateView, FormView, ListView, TemplateView, UpdateView
from django_filters.views import FilterView

from bonuses import selectors as ledger
from bonuses.exceptions import BonusError
from giftshop.templatetags.points import points
from giftshop.web.forms import parse_id
from giftshop.web.views import (
    INVALID,
    AdministratorRequiredMixin,
    BoundedTableMixin,
    ExportMixin,
    ServiceFormMixin,
    safe_next,
)

from . import selectors, services
from .exports import OrderExport
from .filters import OrderFilter
from .forms import DeskOrderForm, GiftForm, OrderForm, ReturnForm
from .models import Category, Gift, Order
from .tables import OrderTable


class CatalogView(LoginRequiredMixin, TemplateView):
    template_name = "shop/catalog.html"

    def get_context_data(self, **kwargs):
        params = self.request.GET
        pk = parse_id(params.get("category", ""))
        category = Category.objects.filter(pk=pk).first() if pk else None
        notices = ledger.account_states(self.request.user, restricted_only=True)
        gifts = selectors.shop_gifts(
            self.request.user,
            category=category,
            query=params.get("q", "").strip(),
            sort=params.get("sort", ""),
            affordable=params.get("affordable") == "1",
        )
        return {
            **super().get_context_data(**kwargs),
            "gifts": gifts,
            "categories": selectors.catalog_categories(),
            "category": category,
            "balances": ledger.balances(self.request.user),
            "notices": notices,  # the accounts that cannot spend: their gifts cannot be ordered
            "restricted": {notice.currency.pk: notice for notice in notices},
        }


class OrderCreateView(LoginRequiredMixin, ServiceFormMixin, FormView):
    """Order a gift: the form, then a confirmation step that shows the balance after the purchase."""

    form_class = OrderForm
    template_name = "shop/order.html"

    def dispatch(self, request, *args, **kwargs):
        self.gift = get_object_or_404(
            Gift.objects.select_related("currency", "category"), pk=kwargs["pk"], is_active=True
        )
        return super().dispatch(request, *args, **kwargs)

    def account_state(self):
        """The employee's account in the gift's currency: one that cannot spend refuses the order at once."""
        if not hasattr(self, "_account_state"):
            self._account_state = ledger.account_state(self.request.user, self.gift.currency)
        return self._account_state

    def form_valid(self, form):
        if not self.account_state().can_spend:  # the form is disabled; a stale page or a forged POST
            form.add_error(None, self.account_state().refusal)
            return self.form_invalid(form)
        if "change" in self.request.POST:  # back from the confirmation to the form, as it was filled in
            return self.render_to_response(self.get_context_data(form=form))
        if not form.cleaned_data["confirmed"]:
            return self.render_to_response(self.get_context_data(form=form, confirming=True))
        return super().form_valid(form)

    def perform(self, form):
        data = form.cleaned_data
        return services.place_order(
            user=self.request.user,
            gift=self.gift,
            quantity=data["quantity"],
            pickup_office=data["pickup_office"],
            delivery_comment=data["delivery_comment"],
            idempotency_key=data["idempotency_key"],
        )

    def done(self, form, order):
        messages.success(
            self.request,
            _("Order %(number)s is placed: %(points)s %(currency)s are reserved.")
            % {"number": order.number, "points": points(order.points, order.currency), "currency": order.currency},
        )
        return redirect("shop:my-order-list")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        active = ledger.balance(self.request.user, self.gift.currency).active
        quantity = form.cleaned_data.get("quantity", 1) if form.is_bound and hasattr(form, "cleaned_data") else 1
        total = self.gift.price * (quantity or 1)
        return {
            **context,
            "gift": self.gift,
            "active": active,
            "total": total,
            "after": active - total,
            "account_state": self.account_state(),
        }


class MyOrderListView(LoginRequiredMixin, ListView):
    template_name = "shop/my_orders.html"
    paginate_by = 20

    def get_queryset(self):
        return selectors.orders_of(self.request.user)


class MyOrderCancelView(LoginRequiredMixin, View):
    def post(self, request, pk):
        order = get_object_or_404(Order, pk=pk, user=request.user)  # nobody cancels someone else's order
        try:
            services.cancel_order(order, actor=request.user)
        except BonusError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Order %(number)s is cancelled; the points are back.") % {"number": order.number}
            )
        return redirect("shop:my-order-list")


# Administrators ------------------------------------------------------------------------------


class OrderListView(AdministratorRequiredMixin, ExportMixin, BoundedTableMixin, FilterView):
    table_class = OrderTable
    filterset_class = OrderFilter
    template_name = "shop/order_list.html"
    table_pagination = {"per_page": 50}
    export_class = OrderExport
    export_ordering = ("-created_at", "-id")

    def get_queryset(self):
        return selectors.all_orders()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["wide_filters"] = ["employee", "gift"]
        if context["filter"].is_bound and not context["filter"].is_valid():
            context["table"].empty_text = _("Correct the filter to see the orders.")
        return context


class OrderActionView(AdministratorRequiredMixin, View):
    """Complete, cancel or return (in whole or in part) one order."""

    def post(self, request, pk, action):
        order = get_object_or_404(Order, pk=pk)
        try:
            if action == "complete":
                services.complete_order(order, actor=request.user)
                done = _("Order %(number)s is completed: the points are spent.")
            elif action == "cancel":
                services.cancel_order(order, actor=request.user)
                done = _("Order %(number)s is cancelled: the points and the stock are back.")
            elif action == "return":
                form = ReturnForm(request.POST)
                if not form.is_valid():
                    raise BonusError(" ".join(form.errors.get("quantity", [_("Enter how many items came back.")])))
                services.return_order(order, quantity=form.cleaned_data["quantity"], actor=request.user)
                done = _("Order %(number)s: the returned items are back in stock and their points refunded.")
            else:
                return render(request, "404.html", status=404)
        except BonusError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done % {"number": order.number})
        return redirect(safe_next(request, reverse("shop:order-list")))


class DeskOrderCreateView(AdministratorRequiredMixin, ServiceFormMixin, FormView):
    """An order at the gift desk on an employee's behalf, confirmed by a code sent to the employee."""

    form_class = DeskOrderForm
    template_name = "shop/order_desk.html"

    def perform(self, form):
        """Send the employee a code ("Send a code"; returns None), or place the order."""
        data = form.cleaned_data
        if "send_code" in self.request.POST:
            services.send_code(user=data["employee"])
            return None
        return services.place_order(
            user=data["employee"],
            gift=data["gift"],
            quantity=data["quantity"],
            actor=self.request.user,
            code=data["code"],
            pickup_office=data["pickup_office"],
            delivery_comment=data["delivery_comment"],
            idempotency_key=data["idempotency_key"],
        )

    def done(self, form, order):
        employee = form.cleaned_data["employee"]
        if order is None:  # the code is on its way: the same form waits for it
            messages.info(self.request, _("A code was sent to %(email)s.") % {"email": employee.email})
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(
            self.request,
            _("Order %(number)s is placed for %(name)s.") % {"number": order.number, "name": employee.full_name},
        )
        return redirect("shop:order-list")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        employee = form.cleaned_data.get("employee") if form.is_bound and hasattr(form, "cleaned_data") else None
        # After a wrong entry, how many the code the employee holds has left.
        left = services.code_attempts_left(user=employee) if employee else None
        context["attempts_left"] = left if left is not None and 0 < left < services.CODE_MAX_WRONG else None
        return context


class GiftListView(AdministratorRequiredMixin, ListView):
    template_name = "shop/gift_list.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.catalog(self.request.GET.get("q", "").strip())


class GiftCreateView(AdministratorRequiredMixin, CreateView):
    model = Gift
    form_class = GiftForm
    template_name = "shop/gift_form.html"

    def get_success_url(self):
        messages.success(self.request, _("%(gift)s is saved.") % {"gift": self.object})
        return reverse("shop:gift-list")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=INVALID)


class GiftUpdateView(GiftCreateView, UpdateView):
    pass


class GiftDeleteView(AdministratorRequiredMixin, View):
    def post(self, request, pk):
        gift = get_object_or_404(Gift, pk=pk)
        if services.deactivate_or_delete_gift(gift):
            messages.success(request, _("%(gift)s is deleted.") % {"gift": gift})
        else:
            messages.info(
                request, _("%(gift)s was ordered before, so it is deactivated, not deleted.") % {"gift": gift}
            )
        return redirect("shop:gift-list")
