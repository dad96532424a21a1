from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CarrierEventsTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tracking.api.authentication.CarrierEventsTokenAuthentication"
    name = "CarrierEventsToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "token",
            "description": "A carrier's events token (`wb_evt_…`), for platforms that set no "
            "headers.",
        }
