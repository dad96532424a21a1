from django.urls import path

from routing.api import views

urlpatterns = [
    path("routing/jobs", views.JobListCreateView.as_view(), name="routing-jobs"),
    path("routing/jobs/<uuid:job_id>", views.JobDetailView.as_view(), name="routing-job"),
    path(
        "routing/jobs/<uuid:job_id>/approve",
        views.JobApproveView.as_view(),
        name="routing-job-approve",
    ),
    path(
        "routing/jobs/<uuid:job_id>/cancel",
        views.JobCancelView.as_view(),
        name="routing-job-cancel",
    ),
    path("routes", views.RouteListView.as_view(), name="route-list"),
    path("routes/<uuid:route_id>", views.RouteDetailView.as_view(), name="route-detail"),
]
