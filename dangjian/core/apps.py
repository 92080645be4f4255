from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dangjian.core"
    verbose_name = "平台"

    def ready(self):
        from dangjian.core import signals  # noqa: F401
