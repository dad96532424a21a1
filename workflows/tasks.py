from celery import shared_task

from workflows import orchestration


@shared_task(acks_late=True)
def orchestration_event_process(run_id: str) -> str:
    return orchestration.orchestration_event_process(run_id=run_id)


@shared_task
def orchestration_sweep() -> int:
    return orchestration.orchestration_sweep()
