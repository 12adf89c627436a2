from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from knox.models import get_token_model
from knox.settings import knox_settings

from api.authentication import forget_token
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


# Connected, this receiver also keeps Django from deleting tokens in bulk without loading
# them (its "fast delete" sends no signal): ``QuerySet.delete()`` and cascades from a user
# send it for every token.
@receiver(post_delete, sender=knox_settings.TOKEN_MODEL, dispatch_uid="api.forget_token")
def forget_deleted_token(sender: type, instance: Any, using: str, **kwargs: Any) -> None:
    forget_token(instance, using=using)
