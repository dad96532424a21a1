import pytest
from django.contrib.auth.models import Group, User

from routing import services
from routing.models import JobStatus, OptimizationJob, Route
from tests.routing.conftest import DAY, routed_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(client):
    user = User.objects.create_user("dispatch", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="dispatcher"))
    client.force_login(user)
    return client


@pytest.fixture
def solved_job(client_a, vans, gate):
    for i in range(4):
        client_a.post("/api/v1/orders", routed_payload(i), format="json")
    client_a.post("/api/v1/orders", routed_payload(9, tags=["Temperature:Frozen"]), format="json")
    job = services.job_create(
        name="Monday",
        day=DAY,
        live_mode=False,
        vehicle_groups=[vans],
        gates=[gate],
        job_settings={"maxIterations": 200},
        actor="test",
    )
    services.job_run(job_id=job.id)
    return OptimizationJob.objects.get(id=job.id)


def test_the_job_page_shows_figures_map_timeline_and_who_was_left_out(dispatcher, solved_job):
    page = dispatcher.get(f"/admin/routing/optimizationjob/{solved_job.id}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and "waybill-map" in html
    assert "waybill-timeline" in html and "<polyline" in html
    assert "no-routes-can-handle-tag" in html
    assert "Driving min" in html
    assert "<progress" in html


def test_the_dispatcher_approves_from_the_list(dispatcher, solved_job):
    dispatcher.post(
        "/admin/routing/optimizationjob/",
        {"action": "approve", "_selected_action": [str(solved_job.id)]},
    )

    assert OptimizationJob.objects.get(id=solved_job.id).status == JobStatus.APPROVED
    assert Route.objects.filter(job=solved_job).exists()
    route = Route.objects.first()
    page = dispatcher.get(f"/admin/routing/route/{route.id}/change/")
    assert page.status_code == 200
    order = route.stops.first().order
    order_page = dispatcher.get(f"/admin/orders/order/{order.id}/change/").content.decode()
    assert f"On route <strong>{route.slug}</strong>" in order_page


def test_the_dispatcher_creates_a_job_in_the_admin(dispatcher, client_a, vans, gate):
    client_a.post("/api/v1/orders", routed_payload(1), format="json")

    response = dispatcher.post(
        "/admin/routing/optimizationjob/add/",
        {
            "name": "From the admin",
            "date": DAY.isoformat(),
            "live_mode": "",
            "vehicle_groups": [str(vans.id)],
            "gates": [str(gate.id)],
            "time_budget_s": 5,
            "seed": 1,
            "settings": "{}",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    job = OptimizationJob.objects.get(name="From the admin")
    assert job.status == JobStatus.QUEUED and job.orders.count() == 1


def test_depots_groups_and_gates_have_their_pages(dispatcher, vans, gate):
    for url in (
        "/admin/routing/depot/",
        "/admin/routing/vehiclegroup/",
        f"/admin/routing/vehiclegroup/{vans.id}/change/",
        "/admin/routing/gate/",
        "/admin/routing/optimizationjob/",
        "/admin/routing/optimizationjob/add/",
        "/admin/routing/route/",
    ):
        assert dispatcher.get(url).status_code == 200, url
