"""The gift shop, the employee's own pages, and the administrators' catalog and orders screens."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import CreateView, FormView, ListView, TemplateView, UpdateView
from django_filters.views import FilterView

from . import exports, selectors, shop
from .exceptions import BonusError
from .filters import OrderFilter
from .forms import parse_id
from .models import Category, Entry, Gift, Order
from .shop_forms import DeskOrderForm, GiftForm, OrderForm, ReturnForm
from .tables import MyHistoryTable, OrderTable
from .templatetags.points import points
from .views import INVALID, AdministratorRequiredMixin, BoundedTableMixin, query_without, safe_next


class ShopView(LoginRequiredMixin, TemplateView):
    template_name = "bonuses/shop/catalog.html"

    def get_context_data(self, **kwargs):
        params = self.request.GET
        pk = parse_id(params.get("category", ""))
        category = Category.objects.filter(pk=pk).first() if pk else None
        gifts = selectors.shop_gifts(
            self.request.user, category=category, query=params.get("q", "").strip(), sort=params.get("sort", ""),
            affordable=params.get("affordable") == "1",
        )  # fmt: skip
        return {
            **super().get_context_data(**kwargs),
            "gifts": gifts,
            "categories": Category.objects.filter(gifts__is_active=True).distinct(),
            "category": category,
            "balances": selectors.balances(self.request.user),
        }


class OrderCreateView(LoginRequiredMixin, FormView):
    """Order a gift: the form, then a confirmation step that shows the balance after the purchase."""

    form_class = OrderForm
    template_name = "bonuses/shop/order.html"

    def dispatch(self, request, *args, **kwargs):
        self.gift = get_object_or_404(
            Gift.objects.select_related("currency", "category"), pk=kwargs["pk"], is_active=True
        )
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        if "change" in self.request.POST:  # back from the confirmation to the form, as it was filled in
            return self.render_to_response(self.get_context_data(form=form))
        if not data["confirmed"]:
            return self.render_to_response(self.get_context_data(form=form, confirming=True))
        try:
            order = shop.place_order(
                user=self.request.user, gift=self.gift, quantity=data["quantity"],
                pickup_office=data["pickup_office"], delivery_comment=data["delivery_comment"],
                idempotency_key=data["idempotency_key"],
            )  # fmt: skip
        except BonusError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        reserved = points(order.points, order.currency)
        messages.success(self.request, _("Order %(number)s is placed: %(points)s %(currency)s are reserved.") % {
            "number": order.number, "points": reserved, "currency": order.currency})  # fmt: skip
        return redirect("shop-orders")

    def form_invalid(self, form):
        form.renew_key()  # the corrected order is a new request
        return self.render_to_response(self.get_context_data(form=form), status=INVALID)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        active = selectors.balance(self.request.user, self.gift.currency).active
        quantity = form.cleaned_data.get("quantity", 1) if form.is_bound and hasattr(form, "cleaned_data") else 1
        total = self.gift.price * (quantity or 1)
        return {**context, "gift": self.gift, "active": active, "total": total, "after": active - total}


class MyOrdersView(LoginRequiredMixin, ListView):
    template_name = "bonuses/shop/my_orders.html"
    paginate_by = 20

    def get_queryset(self):
        return Order.objects.filter(user=self.request.user).select_related("gift", "currency")


class MyOrderCancelView(LoginRequiredMixin, View):
    def post(self, request, pk):
        order = get_object_or_404(Order, pk=pk, user=request.user)  # nobody cancels someone else's order
        try:
            shop.cancel_order(order, actor=request.user)
        except BonusError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Order %(number)s is cancelled; the points are back.") % {"number": order.number}
            )
        return redirect("shop-orders")


class MyBalanceView(LoginRequiredMixin, BoundedTableMixin, TemplateView):
    """My balance: the figures per currency, upcoming expiries, pending activations, my history."""

    template_name = "bonuses/shop/my_balance.html"
    table_class = MyHistoryTable
    table_pagination = {"per_page": 25}

    def get_table_data(self):
        return Entry.objects.filter(user=self.request.user).select_related("currency", "reservation__order__gift")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["accounts"] = [
            {"currency": currency, "balance": figures, "expiries": selectors.upcoming_expiries(user, currency),
             "activations": selectors.pending_activations(user, currency)}
            for currency, figures in selectors.balances(user)
        ]  # fmt: skip
        return context


# Administrators ------------------------------------------------------------------------------


class OrderListView(AdministratorRequiredMixin, BoundedTableMixin, FilterView):
    table_class = OrderTable
    filterset_class = OrderFilter
    template_name = "bonuses/orders/list.html"
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        return Order.objects.select_related("user__department", "gift", "currency")

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":
            filterset = self.get_filterset(self.get_filterset_class())
            rows = filterset.qs.order_by("-created_at", "-id") if filterset.is_valid() else Order.objects.none()
            return exports.xlsx_response(
                name="orders", title=_("Orders"), filters=exports.describe_filters(filterset.form),
                columns=exports.ORDER_COLUMNS, rows=exports.order_rows(rows),
            )  # fmt: skip
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(filter_query=query_without(self.request, "page", "export"), wide_filters=["employee", "gift"])
        if context["filter"].is_bound and not context["filter"].is_valid():
            context["table"].empty_text = _("Correct the filter to see the orders.")
        return context


class OrderActionView(AdministratorRequiredMixin, View):
    """Complete, cancel or return (in whole or in part) one order."""

    def post(self, request, pk, action):
        order = get_object_or_404(Order, pk=pk)
        try:
            if action == "complete":
                shop.complete_order(order, actor=request.user)
                done = _("Order %(number)s is completed: the points are spent.")
            elif action == "cancel":
                shop.cancel_order(order, actor=request.user)
                done = _("Order %(number)s is cancelled: the points and the stock are back.")
            elif action == "return":
                form = ReturnForm(request.POST)
                if not form.is_valid():
                    raise BonusError(" ".join(form.errors.get("quantity", [_("Enter how many items came back.")])))
                shop.return_order(order, quantity=form.cleaned_data["quantity"], actor=request.user)
                done = _("Order %(number)s: the returned items are back in stock and their points refunded.")
            else:
                return render(request, "404.html", status=404)
        except BonusError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done % {"number": order.number})
        return redirect(safe_next(request, reverse("bonuses:order-list")))


class DeskOrderCreateView(AdministratorRequiredMixin, FormView):
    """An order at the gift desk on an employee's behalf, confirmed by a code sent to the employee."""

    form_class = DeskOrderForm
    template_name = "bonuses/orders/desk.html"

    def form_valid(self, form):
        data = form.cleaned_data
        employee, gift = data["employee"], data["gift"]
        try:
            if "send_code" in self.request.POST:
                shop.send_code(user=employee)
                messages.info(self.request, _("A code was sent to %(email)s.") % {"email": employee.email})
                return self.render_to_response(self.get_context_data(form=form))
            order = shop.place_order(
                user=employee, gift=gift, quantity=data["quantity"], actor=self.request.user, code=data["code"],
                pickup_office=data["pickup_office"], delivery_comment=data["delivery_comment"],
                idempotency_key=data["idempotency_key"],
            )  # fmt: skip
        except BonusError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        messages.success(self.request, _("Order %(number)s is placed for %(name)s.") % {
            "number": order.number, "name": employee.full_name})  # fmt: skip
        return redirect("bonuses:order-list")

    def form_invalid(self, form):
        form.renew_key()  # the corrected order is a new request
        return self.render_to_response(self.get_context_data(form=form), status=INVALID)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        employee = form.cleaned_data.get("employee") if form.is_bound and hasattr(form, "cleaned_data") else None
        # After a wrong entry, how many the code the employee holds has left.
        left = shop.code_attempts_left(user=employee) if employee else None
        context["attempts_left"] = left if left is not None and 0 < left < shop.CODE_MAX_WRONG else None
        return context


class GiftListView(AdministratorRequiredMixin, ListView):
    template_name = "bonuses/gifts/list.html"
    paginate_by = 50

    def get_queryset(self):
        gifts = Gift.objects.select_related("category", "currency").order_by("-is_active", "name")
        query = self.request.GET.get("q", "").strip()
        return gifts.filter(Q(name__icontains=query) | Q(category__name__icontains=query)) if query else gifts


class GiftCreateView(AdministratorRequiredMixin, CreateView):
    model = Gift
    form_class = GiftForm
    template_name = "bonuses/gifts/form.html"

    def get_success_url(self):
        messages.success(self.request, _("%(gift)s is saved.") % {"gift": self.object})
        return reverse("bonuses:gift-list")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=INVALID)


class GiftUpdateView(GiftCreateView, UpdateView):
    pass


class GiftDeleteView(AdministratorRequiredMixin, View):
    def post(self, request, pk):
        gift = get_object_or_404(Gift, pk=pk)
        if shop.deactivate_or_delete_gift(gift):
            messages.success(request, _("%(gift)s is deleted.") % {"gift": gift})
        else:
            messages.info(
                request, _("%(gift)s was ordered before, so it is deactivated, not deleted.") % {"gift": gift}
            )
        return redirect("bonuses:gift-list")
