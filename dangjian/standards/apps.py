from django.apps import AppConfig


class StandardsConfig(AppConfig):
    name = "dangjian.standards"
    verbose_name = "考评标准"
