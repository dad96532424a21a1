from celery import shared_task

from workflows import engine, orchestration


@shared_task(acks_late=True)
def orchestration_event_process(run_id: str) -> str:
    return orchestration.orchestration_event_process(run_id=run_id)


@shared_task
def orchestration_sweep() -> int:
    return orchestration.orchestration_sweep()


@shared_task(acks_late=True)
def workflow_run_process(run_id: str) -> str:
    return engine.workflow_run_process(run_id=run_id)


@shared_task
def workflow_runs_sweep() -> int:
    return engine.workflow_runs_sweep()
