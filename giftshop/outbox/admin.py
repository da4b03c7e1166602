from django.contrib import admin

from giftshop.web.admin import ReadOnlyAdmin

from .models import OutgoingEmail


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """Did the e-mail go out? Waiting, sent, or failed with the mail server's answer."""

    list_display = ("created_at", "recipient", "subject", "sent_at", "attempts")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "attempts")
    search_fields = ("recipient", "subject")
    date_hierarchy = "created_at"
