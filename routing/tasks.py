from celery import shared_task

from routing import services

# A job runs for its own time budget (at most an hour), beyond the default task limits.
JOB_TIME_LIMIT_S = 3600 + 300


@shared_task(acks_late=True, time_limit=JOB_TIME_LIMIT_S, soft_time_limit=JOB_TIME_LIMIT_S - 60)
def job_run(job_id: str) -> None:
    services.job_run(job_id=job_id)


@shared_task
def jobs_sweep() -> int:
    return services.jobs_sweep()
