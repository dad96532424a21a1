from rest_framework import serializers


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Dotted path of the field, e.g. lines[0].price.")
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one shape of every 4xx answer."""

    type = serializers.CharField(help_text="Stable machine-readable code, e.g. validation_error.")
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True)


ERROR_RESPONSES = {code: ErrorSerializer for code in (400, 401, 403, 404, 409, 422)}
