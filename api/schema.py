"""OpenAPI document details: the Bearer key scheme, and one entry per endpoint."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <64-character API key>"}


def canonical_endpoints(endpoints):
    """Drop the trailing-slash aliases and the catch-all from the document."""
    return [e for e in endpoints if not e[0].endswith("/")]
