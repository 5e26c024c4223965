from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "guanxi.demo"
    label = "demo"
    verbose_name = "Demo data"

    def ready(self) -> None:
        # The generators of the organisation and the customers register themselves on import;
        # later apps register theirs from their own apps.py (guanxi.demo.registry.register).
        from . import customers, org  # noqa: F401
