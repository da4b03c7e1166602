"""Forms of the administrator screens. They validate input; the services decide."""

import bisect

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from giftshop.web.forms import (
    DATE_INPUT,
    AmountField,
    CurrencyAmountMixin,
    EmployeeAutocomplete,
    IdempotentForm,
    checked_amount,
    parse_id,
    whole_numbers_hint,
)

from . import rules, services
from .exceptions import InvalidDates, InvalidSettings
from .models import Account, Currency
from .rules import MAX_COMMENT


class EmployeeIdsField(forms.Field):
    """The bulk form's hidden `employees` input: comma-separated ids, as a sorted list of distinct ids.

    Who they are (unknown, inactive, outside the viewer's scope) is for `selectors.bulk_recipients`
    and the service to say; this field only refuses what is not a list of ids.
    """

    widget = forms.HiddenInput
    default_error_messages = {"invalid": _("The selection is not valid.")}

    def prepare_value(self, value):
        return ",".join(map(str, value)) if isinstance(value, list | tuple) else value

    def to_python(self, value) -> list[int]:
        parts = [part.strip() for part in str(value or "").split(",") if part.strip()]
        ids = [parse_id(part) for part in parts]
        if None in ids:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted(set(ids))


class TableCurrencyForm(forms.Form):
    """A modal's form for the currency of the table it was opened from, posted back in a hidden field (empty
    means the default currency); its `amount` field follows that currency's rules (whole numbers)."""

    currency = forms.ModelChoiceField(
        queryset=Currency.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("The currency is not valid: open the form again.")},
    )

    def __init__(self, *args, currency: Currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("currency", currency.pk)
        self.use_currency(currency)

    def use_currency(self, currency: Currency) -> None:
        self.currency = currency
        whole_numbers_hint(self.fields["amount"], currency)

    def clean_currency(self):
        # Cleaned before the amount, whose rules (whole numbers) are the chosen currency's.
        self.use_currency(self.cleaned_data["currency"] or services.get_currency())
        return self.currency

    def clean_amount(self):
        return checked_amount(self.cleaned_data["amount"], self.currency)


class AccrualForm(TableCurrencyForm, IdempotentForm):
    amount = AmountField(label=_("Amount"))
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 3})
    )
    expires_on = forms.DateField(
        label=_("Expiry date"), required=False, widget=DATE_INPUT, help_text=_("The last day the points can be used.")
    )
    lifetime_days = forms.IntegerField(
        label=_("or lifetime (days)"), required=False, widget=forms.NumberInput(attrs={"min": 1, "max": rules.MAX_DAYS})
    )
    activates_on = forms.DateField(label=_("Activation date"), required=False, widget=DATE_INPUT)

    # Dates and lifetimes as far as the product means them (100 years), with the services' messages.
    def clean_expires_on(self):
        return self._checked_date("expires_on", rules.check_expiry_date)

    def clean_activates_on(self):
        return self._checked_date("activates_on", rules.check_activation_date)

    def clean_lifetime_days(self):
        days = self.cleaned_data["lifetime_days"]
        if days is not None:
            try:
                rules.check_lifetime_days(days)
            except InvalidDates as error:
                raise forms.ValidationError(error.message) from None
        return days

    def _checked_date(self, name, check):
        day = self.cleaned_data[name]
        if day is not None:
            try:
                check(day, rules.local_date(timezone.now()))
            except InvalidDates as error:
                raise forms.ValidationError(error.message) from None
        return day

    def clean(self):
        data = super().clean()
        if data.get("expires_on") and data.get("lifetime_days"):
            self.add_error("lifetime_days", _("Give either an expiry date or a lifetime, not both."))
        return data

    def service_options(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("amount", "comment", "expires_on", "lifetime_days", "activates_on")}


class BulkSelectionForm(forms.Form):
    """Who a bulk accrual goes to: the rows checked in the table, or every employee matching its filter."""

    employees = EmployeeIdsField(required=False)  # comma-separated ids
    select_all = forms.BooleanField(widget=forms.HiddenInput, required=False)
    filters = forms.CharField(widget=forms.HiddenInput, required=False)  # the table's query string

    def selection(self) -> dict:
        """The keyword arguments of `selectors.bulk_recipients`; a refused field selects nobody."""
        data = getattr(self, "cleaned_data", {})
        return {
            "employees": data.get("employees") or [],
            "select_all": data.get("select_all", False),
            "filters": data.get("filters", ""),
        }


class BulkAccrualForm(BulkSelectionForm, AccrualForm):
    pass


class WriteOffForm(CurrencyAmountMixin, IdempotentForm):
    employee = forms.ModelChoiceField(
        label=_("Employee"),
        queryset=get_user_model().objects.filter(is_active=True),
        widget=EmployeeAutocomplete,
        error_messages={"invalid_choice": _("Choose an active employee from the list.")},
    )
    currency = forms.ModelChoiceField(label=_("Currency"), queryset=Currency.objects.all(), empty_label=None)
    amount = AmountField(label=_("Subtract bonuses"))
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recommended: why the points are written off."),
    )


class AccountStateForm(forms.Form):
    """A new state for one employee's account in a currency, with the reason (which the employee reads)."""

    currency = forms.ModelChoiceField(
        label=_("Currency"),
        queryset=Currency.objects.all(),
        empty_label=None,
        widget=forms.Select(attrs={"data-autofocus": ""}),  # where the modal puts the focus (accrual.js)
    )
    state = forms.ChoiceField(label=_("New state"), choices=Account.State.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The employee sees the reason and the date on their balance and shop pages."),
        error_messages={"required": _("Give the reason for the change.")},
    )

    def __init__(self, *args, states: dict[int, str], **kwargs):
        """`states`: the account's current state per currency id (a currency without one is active)."""
        super().__init__(*args, **kwargs)
        self.states = states

    def clean(self):
        data = super().clean()
        currency, state = data.get("currency"), data.get("state")
        if currency and state and self.states.get(currency.pk, Account.State.ACTIVE) == state:
            self.add_error(
                "state",
                _("The %(currency)s account is already “%(state)s”: choose another state.")
                % {"currency": currency.name, "state": Account.State(state).label},
            )
        return data


class ReversalForm(IdempotentForm):
    """ "Reverse this batch": the reason is required, since every employee it reaches reads it in their history."""

    comment = forms.CharField(
        label=_("Comment"),
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required: why the batch is taken back. Every employee sees it in their history."),
        error_messages={"required": _("Say why the batch is reversed.")},
    )


class BurnStepForm(forms.Form):
    """One burn-out step as a row. The fields only read numbers; rules.clean_burn_steps judges the steps."""

    period = forms.IntegerField(label=_("Period"), required=False)
    unit = forms.CharField(
        label=_("Unit"),
        required=False,
        initial=Currency.LifetimeUnit.MONTHS,
        widget=forms.Select(choices=Currency.LifetimeUnit.choices),
    )
    percent = forms.DecimalField(label=_("Percentage"), required=False)

    def step(self) -> dict | None:
        """The step as the rules read it, or None for a row left empty."""
        data = self.cleaned_data
        if data.get("period") is None and data.get("percent") is None:
            return None
        return {"period": data["period"], "unit": data["unit"], "percent": data["percent"]}


def steps_refused(steps: list[dict]) -> bool:
    try:
        rules.clean_burn_steps(steps)
    except InvalidSettings:
        return True
    return False


class BaseBurnStepFormSet(forms.BaseFormSet):
    # A toggle button "Remove step" (Bootstrap's btn-check): it works without JavaScript too.
    deletion_widget = forms.CheckboxInput(attrs={"class": "btn-check", "data-remove-step": ""})

    def clean(self):
        """The rows filled in and not removed, in order, as `cleaned_steps`; a refusal goes on the row concerned."""
        if any(self.errors) or not self.management_form.is_valid():
            return
        rows = [form for form in self.forms if not self._should_delete_form(form) and form.step() is not None]
        steps = [form.step() for form in rows]
        try:
            self.cleaned_steps = rules.clean_burn_steps(steps)
        except InvalidSettings as error:
            if not rows:
                raise forms.ValidationError(error.message) from None
            # Each rule compares a step with the one before it, so the row concerned is the last of the shortest
            # refused prefix (a 100% step before the last is named on the step that follows it).
            row = bisect.bisect_left(range(1, len(steps) + 1), True, key=lambda n: steps_refused(steps[:n]))
            rows[min(row, len(rows) - 1)].add_error(None, error.message)


# Without JavaScript a person can add two steps at a time; with it, the page adds rows as asked.
BurnStepFormSet = forms.formset_factory(BurnStepForm, formset=BaseBurnStepFormSet, extra=2, can_delete=True)


def stored_steps(currency: Currency) -> list[dict]:
    """The steps the editor starts from: the stored ones (what the admin's JSON field may hold), else the default."""
    steps = currency.burn_steps if isinstance(currency.burn_steps, list) else []
    return [step for step in steps if isinstance(step, dict)] or rules.DEFAULT_BURN_STEPS


class AvailableBalanceForm(forms.Form):
    """The query of the write-off form's "Available bonuses" figure."""

    employee = forms.ModelChoiceField(queryset=get_user_model().objects.all(), required=False)
    currency = forms.ModelChoiceField(queryset=Currency.objects.all(), required=False)


class CurrencySettingsForm(forms.ModelForm):
    """A currency's settings, with its burn-out steps as the rows of `self.steps`.

    Only the chosen policy's fields are read: the lifetime with "from the date of crediting", the
    steps with "from the date of the last purchase". What is posted for another policy is neither
    validated nor saved: the stored values stay, there again if the administrator switches back.
    """

    POLICY_FIELDS = {Currency.BurnPolicy.FROM_CREDITING: ("lifetime_value", "lifetime_unit")}
    BUDGET_FIELDS = ("budget_allowance", "budget_per_employee", "budget_rollover", "budget_rollover_cap")
    BASIS_FIELDS = {"fixed": "budget_allowance", "per_employee": "budget_per_employee"}

    # The budget policy: the period, then one of the two allowances (`budget_basis` says which), the rollover.
    budget_basis = forms.ChoiceField(
        label=_("Allowance"),
        choices=[("fixed", _("A fixed amount per manager")), ("per_employee", _("An amount per employee managed"))],
        widget=forms.RadioSelect,
        required=False,
    )
    budget_allowance = AmountField(label=_("Allowance per manager"), required=False)
    budget_per_employee = AmountField(
        label=_("Allowance per employee managed"),
        required=False,
        help_text=_("Per active employee of the departments a manager manages, counted when the period opens."),
    )
    budget_rollover_cap = AmountField(label=_("Rolls over at most"), required=False, help_text=_("Empty: all of it."))
    # Four-eyes approval: the thresholds above which a grant waits for an administrator (empty: none).
    approval_per_employee = AmountField(label=_("A manager's grant of more than this per employee"), required=False)
    approval_total = AmountField(label=_("A manager's bulk grant of more than this in all"), required=False)
    approval_admin_total = AmountField(
        label=_("An administrator's bulk grant of more than this in all"),
        required=False,
        help_text=_("It needs a second administrator. Empty: administrators' grants need no approval."),
    )

    class Meta:
        model = Currency
        fields = [
            "name",
            "whole_numbers",
            "activation_delay_days",
            "burn_policy",
            "lifetime_value",
            "lifetime_unit",
            "expiry_reminder_days",
            "requires_confirmation",
            "budget_period",
            "budget_allowance",
            "budget_per_employee",
            "budget_rollover",
            "budget_rollover_cap",
            "approval_required",
            "approval_per_employee",
            "approval_total",
            "approval_admin_total",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = BurnStepFormSet(
            self.data if self.is_bound else None, prefix="steps", initial=stored_steps(self.instance)
        )
        self.fields["budget_basis"].initial = "per_employee" if self.instance.budget_per_employee else "fixed"

    @property
    def chosen_basis(self) -> str:
        """The chosen allowance: the posted one, else the stored one."""
        posted = self.data.get(self.add_prefix("budget_basis")) if self.is_bound else None
        return posted if posted in self.BASIS_FIELDS else self.fields["budget_basis"].initial

    @property
    def chosen_period(self) -> str:
        """The chosen budget period ("": no budgets): the posted one, else the stored one."""
        if not self.is_bound:
            return self.instance.budget_period
        posted = self.data.get(self.add_prefix("budget_period")) or ""  # not posted: no budgets, as Django reads it
        return posted if posted in Currency.Period.values else self.instance.budget_period

    def ignored_fields(self) -> list[str]:
        """What is posted for another burn-out policy, another allowance, or budgets not chosen."""
        ignored = [name for policy, names in self.POLICY_FIELDS.items() if policy != self.policy for name in names]
        if not self.chosen_period:
            return [*ignored, "budget_basis", *self.BUDGET_FIELDS]
        ignored += [name for basis, name in self.BASIS_FIELDS.items() if basis != self.chosen_basis]
        return ignored if self.chosen_rollover else [*ignored, "budget_rollover_cap"]

    @property
    def chosen_rollover(self) -> bool:
        if self.is_bound:
            return bool(self.data.get(self.add_prefix("budget_rollover")))
        return self.instance.budget_rollover

    def validate_unique(self):
        """Everything but the name: the service checks it in any letter case, with one message for every case."""
        try:
            self.instance.validate_unique(exclude={*self._get_validation_exclusions(), "name"})
        except forms.ValidationError as error:
            self._update_errors(error)

    @property
    def policy(self) -> str:
        """The chosen burn-out policy: the posted one, else the stored one."""
        posted = self.data.get(self.add_prefix("burn_policy")) if self.is_bound else None
        return posted if posted in Currency.BurnPolicy.values else self.instance.burn_policy

    def full_clean(self):
        # Another policy's fields are disabled while cleaning: Django cleans their stored value, not the posted one.
        ignored = self.ignored_fields() if self.is_bound else []
        for name in ignored:
            self.fields[name].disabled = True
        try:
            super().full_clean()
        finally:
            for name in ignored:
                self.fields[name].disabled = False

    def clean(self):
        data = super().clean()
        if self.policy == Currency.BurnPolicy.FROM_LAST_PURCHASE:
            if self.steps.is_valid():
                data["burn_steps"] = self.instance.burn_steps = self.steps.cleaned_steps
            else:
                self.add_error(None, _("Correct the burn-out steps below."))
                # Currency.clean would check the stored steps instead, under a field this form does not have.
                self.instance.burn_steps = []
        data.pop("budget_basis", None)
        if self.chosen_period:  # the other allowance is cleared: a policy has exactly one
            chosen = self.BASIS_FIELDS[self.chosen_basis]
            other = next(name for name in self.BASIS_FIELDS.values() if name != chosen)
            data[other] = None
            setattr(self.instance, other, None)
            if data.get(chosen) is None and chosen not in self.errors:
                self.add_error(chosen, _("Give the allowance."))
                # Currency.clean would say it again under either allowance: it checks the stored policy instead.
                data.pop("budget_period", None)
        return data
