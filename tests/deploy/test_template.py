"""template.yaml: cfn-lint clean, and the security and wiring properties we rely on, read from the YAML."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from frs.api.routes import ROUTES
from frs.config import REPO_ROOT, Settings
from tests.deploy.cfn_yaml import load_template

TEMPLATE = REPO_ROOT / "template.yaml"
NO_VALUE = {"Ref": "AWS::NoValue"}
# Served by the HTTP adapter next to the routes table (frs.api.http.build_router).
DOC_ROUTES = {("GET", "/openapi.json"), ("GET", "/docs")}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = _resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.values()))


def _function(template: dict[str, Any]) -> dict[str, Any]:
    return _one(template, "AWS::Serverless::Function")


def _statements(template: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """Every statement of the function role's inline policies, with the condition guarding it (if any)."""
    role_name = _function(template)["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_name]
    out: list[tuple[str | None, dict[str, Any]]] = []
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                condition, when_true, when_false = statement["Fn::If"]
                assert when_false == NO_VALUE
                out.append((condition, when_true))
            else:
                out.append((None, statement))
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    if not cfn_lint.exists():
        pytest.fail("cfn-lint is not installed in this environment (pip install cfn-lint==1.58.0)")
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_is_a_sam_template_with_an_image_function(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    function = _function(template)
    assert function["Properties"]["PackageType"] == "Image"
    metadata = function["Metadata"]
    assert (REPO_ROOT / metadata["DockerContext"] / metadata["Dockerfile"]).is_file()
    assert metadata["DockerBuildArgs"] == {"FRS_PACK": {"Ref": "Pack"}}
    parameters = template["Parameters"]
    assert parameters["Pack"]["Default"] == "open"
    assert {"embedded", "open", "buffalo_l", "buffalo_s"} <= set(parameters["Pack"]["AllowedValues"])
    assert parameters["MemorySize"]["Default"] == 2048
    assert parameters["Timeout"]["Default"] == 30
    assert function["Properties"]["MemorySize"] == {"Ref": "MemorySize"}
    assert function["Properties"]["Timeout"] == {"Ref": "Timeout"}


def test_environment_is_wired_to_parameters(template: dict[str, Any]) -> None:
    env = _function(template)["Properties"]["Environment"]["Variables"]
    assert env["FRS_PACK"] == {"Ref": "Pack"}
    assert env["FRS_MATCH_THRESHOLD"] == {"Ref": "MatchThreshold"}
    assert env["FRS_DET_THRESHOLD"] == {"Ref": "DetThreshold"}
    assert env["FRS_SYNC_TTL"] == {"Ref": "SyncTtl"}
    condition, postgres_uri, s3_uri = env["FRS_GALLERY_URI"]["Fn::If"]
    assert condition == "UsePostgres"
    assert s3_uri == {"Fn::Sub": "s3://${GalleryBucket}/galleries"}
    assert "${PostgresSecretArn}" in postgres_uri["Fn::Sub"]
    assert env["POWERTOOLS_SERVICE_NAME"] and env["LOG_LEVEL"]
    for name in ("MatchThreshold", "DetThreshold"):  # empty default = "use the pack's value"
        assert template["Parameters"][name]["Default"] == ""


def test_the_decision_settings_are_parameters_with_the_services_defaults(template: dict[str, Any]) -> None:
    env = _function(template)["Properties"]["Environment"]["Variables"]
    parameters = template["Parameters"]
    defaults = Settings()
    wired = {
        "FRS_TARGET_FPIR": ("TargetFpir", str(defaults.target_fpir)),
        "FRS_TARGET_FAR": ("TargetFar", str(defaults.target_far)),
        "FRS_ADD_QUALITY_FILTER": ("AddQualityFilter", defaults.add_quality_filter),
        "FRS_IDENTIFY_QUALITY_FILTER": ("IdentifyQualityFilter", defaults.identify_quality_filter),
    }
    for variable, (parameter, default) in wired.items():
        assert env[variable] == {"Ref": parameter}
        assert parameters[parameter]["Default"] == default
        # The default passes the template's own check, and the function reads it back as the same value.
        pattern = parameters[parameter].get("AllowedPattern")
        assert pattern is None or re.fullmatch(pattern, default)
        assert Settings.from_env({variable: default}) == defaults
    for pattern in (parameters["TargetFpir"]["AllowedPattern"], parameters["TargetFar"]["AllowedPattern"]):
        assert [bool(re.fullmatch(pattern, v)) for v in ("0.001", "0.5", "0", "1", "0.0", "", "1e-3")] == [
            True, True, False, False, False, False, False,
        ]  # fmt: skip
    for parameter in ("AddQualityFilter", "IdentifyQualityFilter"):
        assert parameters[parameter]["AllowedValues"] == ["none", "low", "medium", "high"]


def test_gallery_bucket_is_private_versioned_and_encrypted(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["GalleryBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse and all(
        r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"} for r in sse
    )


def test_bucket_policy_denies_plain_http(template: dict[str, Any]) -> None:
    policies = [
        p
        for p in _resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": "GalleryBucket"}
    ]
    assert len(policies) == 1
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    tls_only = [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
    ]
    assert len(tls_only) == 1
    deny = tls_only[0]
    assert deny["Principal"] == "*" and deny["Action"] in ("s3:*", ["s3:*"])
    assert {"Fn::GetAtt": ["GalleryBucket", "Arn"]} in deny["Resource"]
    assert {"Fn::Sub": "${GalleryBucket.Arn}/*"} in deny["Resource"]


def test_lifecycle_expires_noncurrent_versions_after_the_parameter(template: dict[str, Any]) -> None:
    rules = template["Resources"]["GalleryBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    enabled = [r for r in rules if r["Status"] == "Enabled"]
    noncurrent = [r["NoncurrentVersionExpiration"] for r in enabled if "NoncurrentVersionExpiration" in r]
    assert noncurrent == [{"NoncurrentDays": {"Ref": "NoncurrentVersionExpirationDays"}}]
    assert template["Parameters"]["NoncurrentVersionExpirationDays"]["Default"] == 30
    aborts = [
        r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        for r in enabled
        if "AbortIncompleteMultipartUpload" in r
    ]
    assert aborts and all(isinstance(days, int) and days >= 1 for days in aborts)
    # The noncurrent-version rule covers the whole bucket; only the audit records' expiry is by prefix.
    assert all("Prefix" not in r and "Filter" not in r for r in enabled if r["Id"] != "ExpireAuditRecords")


CAMERA_ARN = "arn:${AWS::Partition}:s3:::${CameraBucketName}"


def test_s3_permissions_are_scoped_to_the_galleries_prefix(template: dict[str, Any]) -> None:
    galleries = [{"Fn::Sub": "${GalleryBucket.Arn}/galleries/*"}]
    input_objects = [{"Fn::Sub": "arn:${AWS::Partition}:s3:::${InputBucketName}/*"}]
    camera_objects = [{"Fn::Sub": f"{CAMERA_ARN}/cameras/*"}, {"Fn::Sub": f"{CAMERA_ARN}/config/*"}]
    camera_outputs = [{"Fn::Sub": f"{CAMERA_ARN}/results/*"}, {"Fn::Sub": f"{CAMERA_ARN}/alert-state/*"}]
    kinds = []
    for condition, statement in _statements(template):
        actions = set(_as_list(statement["Action"]))
        if not any(a.startswith("s3:") for a in actions):
            continue
        resources = _as_list(statement["Resource"])
        if resources == galleries:
            assert condition is None
            assert actions <= {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
            kinds.append("gallery objects")
        elif actions == {"s3:ListBucket"}:
            assert resources == [{"Fn::GetAtt": ["GalleryBucket", "Arn"]}]
            assert statement["Condition"] == {"StringLike": {"s3:prefix": ["galleries/*", "audit/*"]}}
            kinds.append("gallery listing")
        elif resources == [{"Fn::Sub": "${GalleryBucket.Arn}/audit/*"}]:  # written once, never deleted
            assert condition is None and actions == {"s3:GetObject", "s3:PutObject"}
            kinds.append("audit records")
        elif resources == input_objects:
            assert condition == "HasInputBucket" and actions == {"s3:GetObject"}
            kinds.append("input images")
        elif resources == camera_objects:  # read-only: FRS never writes, copies or deletes camera uploads
            assert condition == "HasCameraBucket" and actions == {"s3:GetObject", "s3:GetObjectVersion"}
            kinds.append("camera objects")
        elif resources == camera_outputs:  # no DeleteObject, no ListBucket
            assert condition == "HasCameraBucket" and actions == {"s3:GetObject", "s3:PutObject"}
            kinds.append("camera results and alert state")
        elif resources == [{"Fn::Sub": "${GalleryBucket.Arn}/index-jobs/*"}]:  # write-only
            assert condition is None and actions == {"s3:PutObject"}
            kinds.append("index job results")
        else:
            pytest.fail(f"unexpected S3 grant: {statement}")
    assert sorted(kinds) == [
        "audit records",
        "camera objects",
        "camera results and alert state",
        "gallery listing",
        "gallery objects",
        "index job results",
        "input images",
    ]
    objects = next(s for c, s in _statements(template) if _as_list(s["Resource"]) == galleries)
    assert set(_as_list(objects["Action"])) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}


def test_no_permission_is_granted_on_everything(template: dict[str, Any]) -> None:
    for _, statement in _statements(template):
        assert statement["Effect"] == "Allow"
        assert "*" not in _as_list(statement["Resource"]), statement
        assert not any(a in ("*", "s3:*", "secretsmanager:*") for a in _as_list(statement["Action"]))


def test_postgres_mode_is_conditional(template: dict[str, Any]) -> None:
    assert template["Conditions"]["UsePostgres"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "PostgresSecretArn"}, ""]}]
    }
    secret = [
        (c, s) for c, s in _statements(template) if "secretsmanager:GetSecretValue" in _as_list(s["Action"])
    ]
    assert secret == [("UsePostgres", secret[0][1])]
    assert secret[0][1]["Resource"] == {"Ref": "PostgresSecretArn"}
    vpc = _function(template)["Properties"]["VpcConfig"]["Fn::If"]
    assert vpc[0] == "UsePostgres" and vpc[2] == NO_VALUE
    assert vpc[1] == {"SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}}
    role_name = _function(template)["Properties"]["Role"]["Fn::GetAtt"][0]
    managed = template["Resources"][role_name]["Properties"]["ManagedPolicyArns"]["Fn::If"]
    assert managed[0] == "UsePostgres" and managed[2] == NO_VALUE  # no network-interface rights otherwise


def _event_routes(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    routes = {}
    for name, event in _function(template)["Properties"]["Events"].items():
        if name == "RetentionPurge":  # the schedule: a direct invocation, checked below
            assert event["Type"] == "Schedule"
            continue
        if event["Type"] == "SQS":  # the index queue, checked below
            continue
        assert event["Type"] == "HttpApi"
        props = event["Properties"]
        routes[(props["Method"].upper(), props["Path"])] = props
    return routes


def test_every_route_of_the_code_is_an_http_api_event(template: dict[str, Any]) -> None:
    code_routes = {(r.method, r.path) for r in ROUTES} | DOC_ROUTES
    assert set(_event_routes(template)) == code_routes


def test_every_route_requires_authentication(template: dict[str, Any]) -> None:
    api_name, api = next(iter(_resources(template, "AWS::Serverless::HttpApi").items()))
    assert len(_resources(template, "AWS::Serverless::HttpApi")) == 1
    assert "Auth" not in api["Properties"]  # auth lives in DefinitionBody; SAM's Auth takes no parameters
    body = api["Properties"]["DefinitionBody"]
    operations = {
        (method.upper(), path): operation
        for path, methods in body["paths"].items()
        for method, operation in methods.items()
    }
    events = _event_routes(template)
    # Same set both ways: no event lacks its secured operation, no operation lacks an integration.
    assert set(operations) == set(events)
    for route, operation in operations.items():
        assert operation["security"] == [{"FrsAuth": []}], route
        assert events[route]["ApiId"] == {"Ref": api_name}, route  # not SAM's implicit, unauthenticated API
    condition, jwt, iam = body["components"]["securitySchemes"]["FrsAuth"]["Fn::If"]
    assert condition == "UseJwt"
    assert template["Conditions"]["UseJwt"] == {"Fn::Equals": [{"Ref": "ApiAuth"}, "JWT"]}
    assert jwt["x-amazon-apigateway-authorizer"]["type"] == "jwt"
    assert jwt["x-amazon-apigateway-authorizer"]["jwtConfiguration"]["issuer"] == {"Ref": "JwtIssuer"}
    assert iam["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_default_auth_is_iam_and_anonymous_is_not_offered(template: dict[str, Any]) -> None:
    api_auth = template["Parameters"]["ApiAuth"]
    assert api_auth["Default"] == "IAM"
    assert set(api_auth["AllowedValues"]) == {"IAM", "JWT"}
    url = template["Resources"]["FrsFunctionUrl"]
    assert url["Condition"] == "CreateFunctionUrl"
    assert url["Properties"]["AuthType"] == "AWS_IAM"
    assert template["Parameters"]["EnableFunctionUrl"]["Default"] == "false"
    assert template["Conditions"]["CreateFunctionUrl"] == {
        "Fn::Equals": [{"Ref": "EnableFunctionUrl"}, "true"]
    }
    public = [
        r
        for r in _resources(template, "AWS::Lambda::Permission").values()
        if r["Properties"].get("FunctionUrlAuthType") == "NONE"
    ]
    assert not public


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert "${FrsHttpApi}.execute-api" in outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert outputs["GalleryBucketName"]["Value"] == {"Ref": "GalleryBucket"}
    assert outputs["FunctionArn"]["Value"] == {"Fn::GetAtt": ["FrsFunction", "Arn"]}
    assert outputs["FunctionUrl"]["Condition"] == "CreateFunctionUrl"


# -- CCTV ----------------------------------------------------------------------------------------------------

CAMERA_RESOURCES = {
    "CameraBucket": "AWS::S3::Bucket",
    "CameraBucketPolicy": "AWS::S3::BucketPolicy",
    "CameraInvokePermission": "AWS::Lambda::Permission",
    "AlertTopic": "AWS::SNS::Topic",
    "AlertTopicPolicy": "AWS::SNS::TopicPolicy",
    "FailedCameraEvents": "AWS::SQS::Queue",
    "CameraEventInvokeConfig": "AWS::Lambda::EventInvokeConfig",
}


def test_the_camera_path_exists_only_with_a_camera_bucket(template: dict[str, Any]) -> None:
    assert template["Conditions"]["HasCameraBucket"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CameraBucketName"}, ""]}]
    }
    assert template["Parameters"]["CameraBucketName"]["Default"] == ""
    for name, kind in CAMERA_RESOURCES.items():
        resource = template["Resources"][name]
        assert (resource["Type"], resource["Condition"]) == (kind, "HasCameraBucket"), name


def test_s3_invokes_the_function_only_for_keys_under_cameras(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["CameraBucket"]
    assert bucket["Properties"]["BucketName"] == {"Ref": "CameraBucketName"}
    assert bucket["DependsOn"] == "CameraInvokePermission"  # S3 checks the permission when it is configured
    (notification,) = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Function"] == {"Fn::GetAtt": ["FrsFunction", "Arn"]}
    assert notification["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": "cameras/"}]}}
    permission = template["Resources"]["CameraInvokePermission"]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::Sub": CAMERA_ARN}
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    # What FRS writes never lands under the trigger prefix: no recursive invocation.
    env = _function(template)["Properties"]["Environment"]["Variables"]
    for variable, folder in (("FRS_RESULTS_URI", "results"), ("FRS_ALERT_STATE_URI", "alert-state")):
        condition, uri, unset = env[variable]["Fn::If"]
        assert (condition, unset) == ("HasCameraBucket", "")
        assert uri == {"Fn::Sub": f"s3://${{CameraBucketName}}/{folder}"}


def test_the_camera_bucket_is_private_tls_only_and_expires_uploads(template: dict[str, Any]) -> None:
    props = template["Resources"]["CameraBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireCameraUploads"]["Prefix"] == "cameras/"
    assert rules["ExpireCameraUploads"]["ExpirationInDays"] == {"Ref": "CameraRetentionDays"}
    assert rules["ExpireAlertState"]["Prefix"] == "alert-state/"
    # State may expire only after the longest cooldown (FRS_ALERT_COOLDOWN <= 86400 s).
    assert (
        rules["ExpireAlertState"]["ExpirationInDays"] * 86400
        > template["Parameters"]["AlertCooldown"]["MaxValue"]
    )
    (deny,) = template["Resources"]["CameraBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alerts_go_to_an_encrypted_topic_the_function_may_only_publish_to(template: dict[str, Any]) -> None:
    assert template["Resources"]["AlertTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    env = _function(template)["Properties"]["Environment"]["Variables"]
    assert env["FRS_ALERT_TOPIC_ARN"] == {"Fn::If": ["HasCameraBucket", {"Ref": "AlertTopic"}, ""]}
    sns = [
        (c, s) for c, s in _statements(template) if any(a.startswith("sns:") for a in _as_list(s["Action"]))
    ]
    assert [(c, s["Action"], s["Resource"]) for c, s in sns] == [
        ("HasCameraBucket", "sns:Publish", {"Ref": "AlertTopic"})
    ]


def test_failed_camera_events_go_to_a_dead_letter_queue_after_retries(template: dict[str, Any]) -> None:
    config = template["Resources"]["CameraEventInvokeConfig"]["Properties"]
    assert config["FunctionName"] == {"Ref": "FrsFunction"} and config["Qualifier"] == "$LATEST"
    assert config["MaximumRetryAttempts"] == 2
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["FailedCameraEvents", "Arn"]}
    queue = template["Resources"]["FailedCameraEvents"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 86400
    sqs = [
        (c, s) for c, s in _statements(template) if any(a.startswith("sqs:") for a in _as_list(s["Action"]))
    ]
    sends = [(c, s["Action"], s["Resource"]) for c, s in sqs if "sqs:SendMessage" in _as_list(s["Action"])]
    assert sends == [("HasCameraBucket", "sqs:SendMessage", destination)]  # the index queue is only read


def test_cctv_settings_are_wired_to_parameters(template: dict[str, Any]) -> None:
    env = _function(template)["Properties"]["Environment"]["Variables"]
    assert env["FRS_CAMERAS"] == {"Ref": "Cameras"}
    assert env["FRS_ALERT_COOLDOWN"] == {"Ref": "AlertCooldown"}
    assert env["FRS_VIDEO_FPS"] == {"Ref": "VideoFps"}
    assert env["FRS_MAX_CLIP_SECONDS"] == {"Ref": "MaxClipSeconds"}
    parameters = template["Parameters"]
    assert parameters["AlertCooldown"]["Default"] == 300 and parameters["VideoFps"]["Default"] == 2
    assert parameters["MaxClipSeconds"]["Default"] == Settings().max_clip_seconds


def test_privacy_audit_prefix_purge_schedule_and_least_privilege(template: dict[str, Any]) -> None:
    function = _function(template)
    env = function["Properties"]["Environment"]["Variables"]
    assert env["FRS_AUDIT_URI"] == {"Fn::Sub": "s3://${GalleryBucket}/audit"}
    assert env["FRS_ACCESS_POLICY"] == {"Ref": "AccessPolicy"}
    schedule = function["Properties"]["Events"]["RetentionPurge"]
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Input"] == '{"action": "purge", "gallery": "*"}'
    audit = [s for _, s in _statements(template) if s.get("Sid") == "AuditRecords"]
    assert audit and set(audit[0]["Action"]) == {"s3:GetObject", "s3:PutObject"}  # never s3:DeleteObject
    assert audit[0]["Resource"] == {"Fn::Sub": "${GalleryBucket.Arn}/audit/*"}
    rules = template["Resources"]["GalleryBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {"Ref": "NoncurrentVersionExpirationDays"} in [
        r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") for r in rules
    ]
    assert any(
        r.get("Prefix") == "audit/" and r["ExpirationInDays"] == {"Ref": "AuditRetentionDays"} for r in rules
    )


def test_the_index_queue_feeds_the_function_with_partial_batch_failures_and_a_dlq(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    event = _function(template)["Properties"]["Events"]["IndexBatches"]
    assert event["Type"] == "SQS"
    props = event["Properties"]
    assert props["Queue"] == {"Fn::GetAtt": ["IndexQueue", "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == 1  # one message = one batch of photos = one gallery write
    # Maximum concurrency per backend unless the parameter sets it: few SQLite writers, many pgvector ones.
    assert props["ScalingConfig"]["MaximumConcurrency"] == {
        "Fn::If": [
            "IndexConcurrencyByBackend",
            {"Fn::If": ["UsePostgres", 50, 2]},
            {"Ref": "IndexMaxConcurrency"},
        ]
    }
    assert template["Conditions"]["IndexConcurrencyByBackend"] == {
        "Fn::Equals": [{"Ref": "IndexMaxConcurrency"}, 0]
    }
    queue = resources["IndexQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["IndexDeadLetters", "Arn"]},
        "maxReceiveCount": {"Ref": "IndexMaxReceiveCount"},
    }
    assert queue["VisibilityTimeout"] >= template["Parameters"]["Timeout"]["MaxValue"]
    assert (
        queue["SqsManagedSseEnabled"] and resources["IndexDeadLetters"]["Properties"]["SqsManagedSseEnabled"]
    )
    sqs = [s for _, s in _statements(template) if any(a.startswith("sqs:") for a in _as_list(s["Action"]))]
    consumer = next(s for s in sqs if s["Resource"] == {"Fn::GetAtt": ["IndexQueue", "Arn"]})
    assert set(consumer["Action"]) == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility",
    }  # fmt: skip
    env = _function(template)["Properties"]["Environment"]["Variables"]
    assert env["FRS_INDEX_JOBS_URI"] == {"Fn::Sub": "s3://${GalleryBucket}/index-jobs"}
    assert Settings.from_env({"FRS_INDEX_JOBS_URI": "s3://bucket/index-jobs"}).index_jobs_uri
