"""A user's place in the loop: role, township, and the login state Django does not keep."""

from django.conf import settings
from django.db import models

from fundwatch.review.states import ROLES


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=32, choices=list(ROLES.items()))
    township = models.CharField(max_length=12, blank=True, default="",
                                help_text="9-digit township code, for a 乡镇核查员")
    must_change_password = models.BooleanField(default=True)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=8, default="zh", choices=[("zh", "中文"), ("en", "English")])

    class Meta:
        permissions = [("reveal_pii", "may reveal full person IDs, bank accounts and phone numbers")]

    def __str__(self):
        return f"{self.user.username} ({ROLES.get(self.role, self.role)} {self.township})"
