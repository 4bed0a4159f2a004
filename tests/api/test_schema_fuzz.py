"""Schema fuzzing: schemathesis drives `frs serve` from the function's own OpenAPI document.

Bounded: a few examples per operation. Asserts no 5xx, documented status codes, content types and headers,
405 for undeclared methods, rejection of schema-invalid data, and bodies that match the documented schemas.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from frs.api.openapi import openapi_document
from harness.s3 import S3Endpoint
from harness.serve import running_server

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: S3Endpoint) -> Iterator[str]:
    # S3 references in generated bodies go to the local moto server, never to AWS.
    with running_server(tmp_path_factory.mktemp("fuzz"), s3_endpoint.env()) as base:
        yield base


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any], fuzz_server: str) -> None:
    # A schema-valid request can still be refused for what its bytes are (random bytes are not an image, a
    # random name is not enrolled), so "positive data acceptance" does not apply; every other check does.
    case.call_and_validate(
        base_url=fuzz_server, timeout=60, excluded_checks=[checks.positive_data_acceptance]
    )
