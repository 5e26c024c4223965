"""Keep the cadence due date of a customer current when its classification changes."""


def customer_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    from .services import refresh_summary

    refresh_summary(instance)
