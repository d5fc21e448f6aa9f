"""The one table the soak's database views write to and read from."""

from django.db import models


class Hit(models.Model):
    """One database request: which view made it, from which worker."""

    kind = models.CharField(max_length=16)
    pid = models.IntegerField()
    created = models.DateTimeField(auto_now_add=True)
