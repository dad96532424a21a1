from rest_framework.metadata import SimpleMetadata


class WaybillMetadata(SimpleMetadata):
    """What ``OPTIONS`` answers on every endpoint: the methods, and the body a write takes.

    DRF's default looks the object up with ``get_object()`` and builds the view's serializer;
    Waybill's views read through tenant-scoped selectors and some take no body at all, so
    only the declared ``serializer_class`` is described, and nothing is looked up.
    """

    def determine_actions(self, request, view):
        serializer_class = getattr(view, "serializer_class", None)
        if serializer_class is None:
            return {}
        writes = sorted({"POST", "PUT", "PATCH"} & set(view.allowed_methods))
        return {method: self.get_serializer_info(serializer_class()) for method in writes}
