"""Admin registrations of the accounts app."""

from django.contrib import admin

from demo_site.accounts.models import AuditEntry, UserProfile

admin.site.register(UserProfile)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "username", "ip"]
    list_filter = ["action"]
