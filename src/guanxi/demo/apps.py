from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "guanxi.demo"
    label = "demo"
    verbose_name = "Demo data"

    def ready(self) -> None:
        # the generators of the organisation and the customers; later apps register theirs from
        # their own apps.py (guanxi.demo.registry.register), each imported only when a demo loads
        from . import registry

        registry.register("org", "guanxi.demo.org.generate", order=10)
        registry.register("customers", "guanxi.demo.customers.generate", order=20)
