from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self):
        from django.db.models.signals import post_delete

        from .lookup import forget_uploads
        from .models import ArtifactBundle

        # However a bundle goes (the admin's list, the project page, retention), this process
        # stops resolving frames with it at once; others within a minute.
        post_delete.connect(lambda **kwargs: forget_uploads(), sender=ArtifactBundle, weak=False)
