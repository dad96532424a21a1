from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Shipper
from config.api.errors import InvalidInput
from config.api.schema import ERROR_RESPONSES, LOCATION_OF_NEW
from config.api.views import ShipperView
from orders.models import Order
from routing import documents, selectors, services
from routing.api.serializers import (
    JobCreateSerializer,
    JobSerializer,
    RouteDetailSerializer,
    RouteListSerializer,
)
from routing.models import Gate, VehicleGroup


class IsDispatcher(BasePermission):
    """Staff who may run route optimisation; approving needs its own permission."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        needed = getattr(view, "required_permission", "routing.add_optimizationjob")
        return user.has_perm(needed)


class StaffView(APIView):
    authentication_classes = [SessionAuthentication, BasicAuthentication]
    permission_classes = [IsDispatcher]

    @property
    def actor(self) -> str:
        return f"user:{self.request.user}"


def _by_ids(model, ids, field: str) -> list:
    found = {o.id: o for o in model.objects.filter(id__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise InvalidInput.for_field(field, f"Unknown: {', '.join(missing[:10])}.")
    return [found[i] for i in ids]


class JobListCreateView(StaffView):
    @extend_schema(
        operation_id="routing_jobs_create",
        tags=["routing"],
        summary="Queue a route optimisation job (staff)",
        request=JobCreateSerializer,
        responses={201: JobSerializer, **ERROR_RESPONSES},
        parameters=[LOCATION_OF_NEW],
    )
    def post(self, request):
        serializer = JobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = None
        if data.get("ownerId"):
            owner = _by_ids(Shipper, [data["ownerId"]], "ownerId")[0]
        orders = None
        if "orders" in data:
            orders = _by_ids(Order, data["orders"], "orders")
            if any(o.live_mode != data["liveMode"] for o in orders):
                raise InvalidInput.for_field("orders", "Every order must be in the job's mode.")
        job = services.job_create(
            name=data["name"],
            day=data["date"],
            live_mode=data["liveMode"],
            vehicle_groups=_by_ids(VehicleGroup, data["vehicleGroups"], "vehicleGroups"),
            gates=_by_ids(Gate, data["gates"], "gates"),
            owner=owner,
            orders=orders,
            time_budget_s=data["timeBudgetS"],
            seed=data["seed"],
            job_settings=dict(data.get("settings") or {}),
            actor=self.actor,
        )
        response = Response(documents.job_document(job), status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/routing/jobs/{job.id}"
        return response


class JobDetailView(StaffView):
    required_permission = "routing.view_optimizationjob"

    @extend_schema(
        operation_id="routing_jobs_retrieve",
        tags=["routing"],
        summary="A job: status, progress, figures, routes and the orders left out (staff)",
        responses={200: JobSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, job_id):
        return Response(documents.job_document(selectors.job_get(job_id)))


class JobApproveView(StaffView):
    required_permission = "routing.approve_optimizationjob"

    @extend_schema(
        operation_id="routing_jobs_approve",
        tags=["routing"],
        summary="Approve a solved job: routes, stops and events (staff)",
        request=None,
        responses={200: JobSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, job_id):
        job = selectors.job_get(job_id)
        services.job_approve(job=job, actor=self.actor)
        job.refresh_from_db()
        return Response(documents.job_document(job))


class JobCancelView(StaffView):
    required_permission = "routing.change_optimizationjob"

    @extend_schema(
        operation_id="routing_jobs_cancel",
        tags=["routing"],
        summary="Cancel a queued or running job, or drop its solution (staff)",
        request=None,
        responses={200: JobSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, job_id):
        job = services.job_cancel(job=selectors.job_get(job_id))
        return Response(documents.job_document(job))


class RouteListView(ShipperView):
    @extend_schema(
        operation_id="routes_list",
        tags=["routes"],
        summary="Routes carrying your orders",
        responses={200: RouteListSerializer, **ERROR_RESPONSES},
    )
    def get(self, request):
        routes = selectors.routes_for_shipper(tenant=self.tenant)
        return Response(
            {
                "results": [
                    documents.route_document(r, tenant=self.tenant)
                    for r in routes.order_by("-start_time")[:500]
                ]
            }
        )


class RouteDetailView(ShipperView):
    @extend_schema(
        operation_id="routes_retrieve",
        tags=["routes"],
        summary="A route: your stops in full, other shippers' only counted",
        responses={200: RouteDetailSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, route_id):
        route = selectors.route_for_shipper(tenant=self.tenant, route_id=route_id)
        return Response(documents.route_document(route, tenant=self.tenant, full=True))
