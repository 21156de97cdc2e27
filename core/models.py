from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by a worker when it runs the heartbeat task: proof that a worker
    consumes the queue, shown by /healthz and used by the worker tests."""

    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    token = models.CharField(max_length=64, blank=True, help_text="Echo of the caller's token, for tests.")
    onnx_providers = models.JSONField(default=list)
    seen_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} pid {self.pid} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class Counter(models.Model):
    """A shared counter (rate limits) for installs without Redis: one row per key, changed by a single
    INSERT ... ON CONFLICT DO UPDATE ... RETURNING statement (core.counters), atomic on SQLite and
    PostgreSQL alike. Django's database cache cannot do that: its incr() is a read and a write, so
    parallel requests lost updates and bursts passed the limits."""

    key = models.CharField(max_length=250, primary_key=True)
    value = models.BigIntegerField(default=0)
    expires_at = models.FloatField(db_index=True, help_text="Unix time after which the count starts again.")

    def __str__(self) -> str:
        return f"{self.key} = {self.value}"


class WorkerPresence(models.Model):
    """One row per running Celery worker (its node name), refreshed by a thread of the worker's main
    process: which queues have live consumers, on any host. Unlike WorkerHeartbeat it proves only that
    the worker process is up (not that its queue moves), so it feeds the metrics, not /healthz."""

    node = models.CharField(max_length=255, primary_key=True)
    queues = models.CharField(max_length=255, help_text="The queues it consumes, comma-separated.")
    pid = models.PositiveIntegerField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.node} ({self.queues}) at {self.seen_at:%Y-%m-%d %H:%M:%S}"
