"""A project row for every project name already in `errors`, so existing data keeps working."""

from django.db import migrations
from django.utils.text import slugify


def create_projects(apps, schema_editor):
    Error = apps.get_model("errors", "Error")
    Project = apps.get_model("projects", "Project")
    taken = set(Project.objects.values_list("slug", flat=True))
    for name in Error.objects.order_by("project").values_list("project", flat=True).distinct():
        if Project.objects.filter(name=name).exists():
            continue
        base = slugify(name)[:90] or "project"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        Project.objects.create(name=name, slug=slug)


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial"), ("errors", "0004_alert_budget_and_big_counts")]

    operations = [migrations.RunPython(create_projects, migrations.RunPython.noop)]
