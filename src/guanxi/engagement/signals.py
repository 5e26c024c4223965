"""Keep the cadence due date of a customer current when its classification changes, and its open
greeting tasks with its current owner."""


def customer_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    from .models import CareState, CareTask
    from .services import refresh_summary

    refresh_summary(instance)
    if not created and instance.owner_id:
        CareTask.objects.filter(customer=instance, state=CareState.OPEN).exclude(
            assignee_id=instance.owner_id
        ).update(assignee_id=instance.owner_id)
