from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.db.models.signals import post_save
from django.dispatch import receiver
from knox.models import get_token_model

from config.logging import request_id


@receiver(request_finished, dispatch_uid="api.forget_request_id")
def forget_request_id(sender: Any, **kwargs: Any) -> None:
    request_id.set("-")


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="api.revoke_tokens")
def revoke_tokens_of_deactivated_user(sender: type, instance: Any, **kwargs: Any) -> None:
    """A deactivated account loses its tokens at once. Authentication also refuses inactive
    users, which covers deactivation by bulk update, where no signal is sent."""
    if not instance.is_active:
        get_token_model().objects.filter(user=instance).delete()
