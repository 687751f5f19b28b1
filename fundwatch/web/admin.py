from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from fundwatch.web.models import Profile


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


class WorkbenchUserAdmin(UserAdmin):
    inlines = [ProfileInline]


admin.site.unregister(User)
admin.site.register(User, WorkbenchUserAdmin)
