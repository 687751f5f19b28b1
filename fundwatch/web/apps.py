from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "fundwatch.web"
    label = "workbench"
    verbose_name = "fundwatch workbench"
    default_auto_field = "django.db.models.BigAutoField"
