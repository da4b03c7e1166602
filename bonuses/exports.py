"""The ledger's Excel exports (SPEC.md section 7): the accrual table, the log and the managers' budgets,
declared column by column."""

from django.utils.translation import gettext_lazy as _

from giftshop.web.xlsx import Column, SheetExport, labels, points_format
from users.models import Department, User

from .models import Entry


class AccrualExport(SheetExport):
    """The accrual table's rows, every page: the employees and their active balance in the table's currency."""

    name = "bonus-balances"
    title = _("Accrual of bonuses to users")
    columns = [
        Column(_("Full name"), "full_name", 28),
        Column(_("E-mail"), "email", 32),
        Column(_("Employee number"), "employee_number", 16),
        Column(_("Position"), "position__name", 24),
        Column(_("City"), "city__name", 16),
        Column(_("Department"), "department__name", 22),
        Column(_("Tags"), "pk", 28, cell="tag_names"),
        Column(_("Hire date"), "hire_date", 12),
        Column(_("Balance"), "balance", 14, points_format, cell="points"),
    ]

    def read(self, queryset):
        return queryset.prefetch_related(None)

    def begin_chunk(self, chunk):
        """The tags of the chunk's employees, in one query."""
        self.tags: dict[int, list[str]] = {}
        ids = [row[self.index["pk"]] for row in chunk]
        for user_id, tag in User.tags.through.objects.filter(user_id__in=ids).values_list("user_id", "tag__name"):
            self.tags.setdefault(user_id, []).append(tag)

    def tag_names(self, pk: int, row: tuple) -> str:
        return ", ".join(sorted(self.tags.get(pk, [])))


class LogExport(SheetExport):
    """The log's entries, every page; a sheet may mix currencies, each amount shown as its own."""

    name = "bonus-log"
    title = _("Bonus accrual and spending log")
    columns = [
        Column(_("Time"), "at", 17),
        Column(_("Employee"), "user__full_name", 28),
        Column(_("E-mail"), "user__email", 30),
        Column(_("Department"), "user__department__name", 20),
        Column(_("Event type"), "kind", 30, cell=labels(Entry.Kind.choices)),
        Column(_("Currency"), "currency__name", 12),
        Column(_("Amount"), "amount", 12, points_format, cell="points"),
        Column(_("Active balance after"), "balance_after", 14, points_format, cell="points"),
        Column(_("Comment"), "comment", 48),
        Column(_("Actor"), "actor__full_name", 24),
        Column(_("Batch"), "batch_id", 8),
        Column(_("Order"), "reservation__reference", 14),
    ]
    extra_fields = ("currency__whole_numbers",)


class BudgetExport(SheetExport):
    """The budgets table's rows, every page: each manager's budget of the current period in its currency."""

    name = "budgets"
    title = _("Managers' budgets")
    columns = [
        Column(_("Manager"), "full_name", 28),
        Column(_("E-mail"), "email", 32),
        Column(_("Departments"), "pk", 32, cell="department_names"),
        Column(_("First day"), "period_start", 12),
        Column(_("Allowance"), "allowance", 14, points_format, cell="points"),
        Column(_("Granted"), "granted", 14, points_format, cell="points"),
        Column(_("Held for approval"), "held", 14, points_format, cell="points"),
        Column(_("Left"), "left", 14, points_format, cell="points"),
    ]

    def read(self, queryset):
        return queryset.prefetch_related(None)

    def begin_chunk(self, chunk):
        """The departments the chunk's managers manage, in one query."""
        self.departments: dict[int, list[str]] = {}
        ids = [row[self.index["pk"]] for row in chunk]
        links = Department.managers.through.objects.filter(user_id__in=ids).values_list("user_id", "department__name")
        for user_id, name in links:
            self.departments.setdefault(user_id, []).append(name)

    def department_names(self, pk: int, row: tuple) -> str:
        return ", ".join(sorted(self.departments.get(pk, [])))


class SegmentMembersExport(SheetExport):
    """A segment's members as of a day."""

    name = "segment-members"
    title = _("Segment members")
    columns = [
        Column(_("Full name"), "full_name", 28),
        Column(_("E-mail"), "email", 32),
        Column(_("Employee number"), "employee_number", 16),
        Column(_("Department"), "department__name", 22),
        Column(_("Hire date"), "hire_date", 12),
        Column(_("Date of birth"), "date_of_birth", 12),
    ]


class CampaignAwardsExport(SheetExport):
    """A campaign's awards, every month: who got how much, on which day, for which occurrence, in which batch."""

    name = "campaign-awards"
    title = _("Campaign awards")
    columns = [
        Column(_("Paid on"), "paid_on", 12),
        Column(_("Occurrence"), "occurrence", 12),
        Column(_("Employee"), "user__full_name", 28),
        Column(_("E-mail"), "user__email", 30),
        Column(_("Department"), "user__department__name", 20),
        Column(_("Amount"), "amount", 12, points_format, cell="points"),
        Column(_("Batch"), "batch_id", 8),
    ]
