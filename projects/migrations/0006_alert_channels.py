import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0005_api_tokens'),
    ]

    operations = [
        migrations.CreateModel(
            name='AlertChannel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('slack', 'Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat)'), ('discord', 'Discord webhook'), ('webhook', 'JSON POST (README: Alert channels)')], max_length=20)),
                ('url', models.URLField(help_text='Where the alert is POSTed; private addresses need WEBHOOK_ALLOWED_HOSTS.', max_length=2000)),
                ('label', models.CharField(blank=True, default='', max_length=100)),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_channels', to='projects.project')),
            ],
            options={
                'db_table': 'alert_channels',
                'ordering': ['project', 'id'],
            },
        ),
    ]
