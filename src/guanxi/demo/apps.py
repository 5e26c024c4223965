from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "guanxi.demo"
    label = "demo"
    verbose_name = "Demo data"
