"""The OpenAPI schema's parts drf-spectacular cannot infer: the Bearer token scheme and
the problem+json answers every operation may give."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "detail"],
}
PROBLEM_DESCRIPTIONS = {
    "400": "A query parameter is not valid (the problem names it).",
    "401": "No credentials, or an unknown, expired or revoked token.",
    "404": "No such object, or not one the user may see.",
    "405": "The API is read-only.",
    "406": "The API answers in JSON only.",
    "429": "Too many requests: wait the Retry-After seconds.",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.api.authentication.BearerTokenAuthentication"
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token, created on the account page.",
        }


def add_problem_responses(result, generator, request, public):
    """Every operation may answer with a problem document for these statuses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in PROBLEM_DESCRIPTIONS.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": reference}},
                    },
                )
    return result
