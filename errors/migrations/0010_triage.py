import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('errors', '0009_activity'),
        ('projects', '0006_alert_channels'),
    ]

    operations = [
        # Per destination now; the old table held only the current hour's count.
        migrations.DeleteModel(
            name='AlertBudget',
        ),
        migrations.CreateModel(
            name='AlertBudget',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('destination', models.CharField(max_length=40)),
                ('window', models.DateTimeField()),
                ('used', models.IntegerField(default=0)),
            ],
            options={
                'db_table': 'alert_budgets',
            },
        ),
        migrations.CreateModel(
            name='EventBucket',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('span', models.CharField(choices=[('h', 'hour'), ('d', 'day')], max_length=1)),
                ('start', models.DateTimeField()),
                ('count', models.BigIntegerField(default=0)),
            ],
            options={
                'db_table': 'error_buckets',
            },
        ),
        migrations.CreateModel(
            name='GroupUser',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user_hash', models.BigIntegerField()),
            ],
            options={
                'db_table': 'error_users',
            },
        ),
        migrations.AddField(
            model_name='alert',
            name='channel',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='projects.alertchannel'),
        ),
        migrations.AddField(
            model_name='error',
            name='muted',
            field=models.BooleanField(db_default=False),
        ),
        migrations.AddField(
            model_name='error',
            name='muted_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='error',
            name='muted_until_count',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='error',
            name='resolved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='error',
            name='users_level',
            field=models.SmallIntegerField(db_default=0),
        ),
        migrations.AddField(
            model_name='error',
            name='users_sampled',
            field=models.IntegerField(db_default=0),
        ),
        migrations.AlterField(
            model_name='activity',
            name='kind',
            field=models.CharField(choices=[('resolved', 'resolved'), ('resolved_in_release', 'resolved in a release'), ('resolved_in_next_release', 'resolved in the next release'), ('unresolved', 'reopened by a person'), ('regression', 'reopened by a new report'), ('muted', 'muted'), ('unmuted', 'unmuted')], max_length=40),
        ),
        migrations.AlterField(
            model_name='alert',
            name='kind',
            field=models.CharField(choices=[('new', 'New error'), ('regression', 'Regression'), ('unmuted', 'Unmuted')], max_length=20),
        ),
        migrations.AddIndex(
            model_name='error',
            index=models.Index(fields=['muted_until'], name='errors_muted_until_idx'),
        ),
        migrations.AddConstraint(
            model_name='alertbudget',
            constraint=models.UniqueConstraint(fields=('destination', 'window'), name='alert_budget_once'),
        ),
        migrations.AddField(
            model_name='eventbucket',
            name='error',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='buckets', to='errors.error'),
        ),
        migrations.AddField(
            model_name='groupuser',
            name='error',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='user_hashes', to='errors.error'),
        ),
        migrations.AddIndex(
            model_name='eventbucket',
            index=models.Index(fields=['span', 'start'], name='error_buckets_age_idx'),
        ),
        migrations.AddConstraint(
            model_name='eventbucket',
            constraint=models.UniqueConstraint(fields=('error', 'span', 'start'), name='error_bucket_once'),
        ),
        migrations.AddConstraint(
            model_name='groupuser',
            constraint=models.UniqueConstraint(fields=('error', 'user_hash'), name='error_user_once'),
        ),
    ]
