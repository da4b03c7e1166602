"""Employees and the small reference tables they are described by.

An employee is a `User` who logs in with an e-mail address. Position, city, department and
tag are their own models so that tables can filter by them and imports can name them.
Managers are linked to the departments they manage (`Department.managers`).
"""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NamedModel(models.Model):
    name = models.CharField(_("name"), max_length=150, unique=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Position(NamedModel):
    class Meta(NamedModel.Meta):
        verbose_name = _("position")
        verbose_name_plural = _("positions")


class City(NamedModel):
    class Meta(NamedModel.Meta):
        verbose_name = _("city")
        verbose_name_plural = _("cities")


class Department(NamedModel):
    managers = models.ManyToManyField(
        "users.User",
        blank=True,
        related_name="managed_departments",
        verbose_name=_("managers"),
        help_text=_("Managers who may grant bonuses to the employees of this department."),
    )

    class Meta(NamedModel.Meta):
        verbose_name = _("department")
        verbose_name_plural = _("departments")


class Tag(NamedModel):
    class Meta(NamedModel.Meta):
        verbose_name = _("tag")
        verbose_name_plural = _("tags")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        tags = fields.pop("tags", None)
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)  # None gives an unusable password, as in Django.
        user.full_clean(exclude=["password", "employee_number"])
        user.save(using=self._db)
        if tags:
            user.tags.set(tags)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        if fields.get("is_staff") is not True or fields.get("is_superuser") is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **fields)

    def get_by_natural_key(self, email: str) -> "User":
        # E-mail addresses are unique without regard to case, so logging in ignores case too.
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=255)
    employee_number = models.CharField(_("employee number"), max_length=50, unique=True, null=True, blank=True)
    position = models.ForeignKey(
        Position, models.SET_NULL, null=True, blank=True, related_name="employees", verbose_name=_("position")
    )
    city = models.ForeignKey(
        City, models.SET_NULL, null=True, blank=True, related_name="employees", verbose_name=_("city")
    )
    department = models.ForeignKey(
        Department, models.SET_NULL, null=True, blank=True, related_name="employees", verbose_name=_("department")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="employees", verbose_name=_("tags"))
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Deactivated employees cannot log in and leave the accrual table, but keep their balances."),
    )
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("Whether the user can log into the Django admin site.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="users_user_email_ci_unique"),
        ]
        indexes = [
            models.Index(fields=["full_name"]),
            models.Index(fields=["is_active", "department"]),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_giftshop_admin(self) -> bool:
        return self.is_active and self.has_perm("bonuses.manage_giftshop")

    @property
    def is_bonus_manager(self) -> bool:
        return self.is_active and self.has_perm("bonuses.grant_bonuses")
