"""The AWS deployment templates (infra/aws): cfn-lint passes, and the security properties the
vault relies on are really in them (Object Lock COMPLIANCE >= 3 years, versioning, SSE-KMS,
no public access, TLS only, least-privilege roles, nothing may bypass or remove the lock)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import cfnlint.decode as decode_mod  # a test dependency: missing means a broken set-up
import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra" / "aws"
TEMPLATES = sorted(p for p in INFRA.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
BUCKET_TEMPLATE = "evidence-bucket.yaml"
IAM_TEMPLATE = "iam-roles.yaml"
MIN_RETENTION_DAYS = 1096  # 3 years

FORBIDDEN = ("s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration",
             "s3:DeleteBucket")
PUT_OR_DELETE = ("s3:PutObject", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
                 "s3:PutObjectAcl", "s3:PutObjectTagging", "s3:DeleteObject",
                 "s3:DeleteObjectVersion", "s3:DeleteObjectTagging", "s3:RestoreObject",
                 "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptTo")
ROLE_POLICIES = {"consultant": "ConsultantPolicy", "destruction-job": "DestructionJobPolicy",
                 "exporter": "ExporterPolicy"}


# --------------------------------------------------------------------------- helpers

@cache
def load(name: str) -> dict[str, Any]:
    template, matches = decode_mod.decode(str(INFRA / name))
    assert not matches, [str(m) for m in matches]
    assert isinstance(template, dict)
    return template


def resources(name: str, kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in load(name)["Resources"].items() if r["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy document (IAM, bucket and key policies) anywhere below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("PolicyDocument", "KeyPolicy") and isinstance(value, dict):
                yield where, value
            else:
                yield from policy_documents(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from policy_documents(value, f"{where}/{i}")


def all_statements() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(template, where, statement) for every statement of every template."""
    for path in TEMPLATES:
        for where, doc in policy_documents(load(path.name)["Resources"]):
            for statement in as_list(doc["Statement"]):
                yield path.name, where, statement


def allowed_actions(statements: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for st in statements:
        if st["Effect"] == "Allow":
            assert "NotAction" not in st, f"Allow with NotAction: {st}"
            found.update(as_list(st["Action"]))
    return found


def grants(patterns: set[str], action: str) -> bool:
    """Whether any (possibly wildcarded) action pattern covers ``action``."""
    return any(fnmatchcase(action.lower(), p.lower()) for p in patterns)


def role_statements(role: str) -> list[dict[str, Any]]:
    policy = load(IAM_TEMPLATE)["Resources"][ROLE_POLICIES[role]]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    return as_list(policy["Properties"]["PolicyDocument"]["Statement"])


def parameter_default_and_min(name: str, value: Any) -> tuple[int, int]:
    """Resolve a literal or ``!Ref Parameter`` to (default, minimum allowed)."""
    if isinstance(value, int | str) and str(value).isdigit():
        return int(value), int(value)
    assert isinstance(value, dict) and set(value) == {"Ref"}, value
    param = load(name)["Parameters"][value["Ref"]]
    assert param["Type"] == "Number"
    return int(param["Default"]), int(param["MinValue"])


def refers_to(value: Any, logical_id: str) -> bool:
    return value in ({"Ref": logical_id}, {"Fn::GetAtt": [logical_id, "Arn"]},
                     {"Fn::GetAtt": f"{logical_id}.Arn"})


def evidence_bucket() -> dict[str, Any]:
    return load(BUCKET_TEMPLATE)["Resources"]["EvidenceBucket"]


def bucket_policy_for(name: str, bucket_id: str) -> list[dict[str, Any]]:
    found = [p for p in resources(name, "AWS::S3::BucketPolicy").values()
             if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    assert len(found) == 1, f"{bucket_id} needs exactly one bucket policy"
    return as_list(found[0]["Properties"]["PolicyDocument"]["Statement"])


# --------------------------------------------------------------------------- cfn-lint

def test_templates_exist() -> None:
    assert {p.name for p in TEMPLATES} >= {BUCKET_TEMPLATE, IAM_TEMPLATE}


def test_cfn_lint_passes_without_errors_or_warnings() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    assert cfn_lint.exists(), f"{cfn_lint} missing: install the test extra"
    done = subprocess.run([str(cfn_lint), *map(str, TEMPLATES)], capture_output=True,
                          text=True, timeout=120, check=False)
    # exit code is a bitmask: 2 errors, 4 warnings, 8 informational; none are expected
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- the bucket

def test_object_lock_compliance_default_retention_at_least_three_years() -> None:
    props = evidence_bucket()["Properties"]
    assert props["ObjectLockEnabled"] is True
    config = props["ObjectLockConfiguration"]
    assert config["ObjectLockEnabled"] == "Enabled"
    rule = config["Rule"]["DefaultRetention"]
    assert rule["Mode"] == "COMPLIANCE"
    assert "Years" not in rule
    default, minimum = parameter_default_and_min(BUCKET_TEMPLATE, rule["Days"])
    assert default >= MIN_RETENTION_DAYS
    assert minimum >= MIN_RETENTION_DAYS


def test_versioning_enabled() -> None:
    assert evidence_bucket()["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}


def test_default_encryption_is_sse_kms_with_the_templates_own_key() -> None:
    (rule,) = evidence_bucket()["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"]
    default = rule["ServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    keys = resources(BUCKET_TEMPLATE, "AWS::KMS::Key")
    assert any(refers_to(default["KMSMasterKeyID"], lid) for lid in keys)
    assert rule["BucketKeyEnabled"] is True
    for key in keys.values():
        assert key["Properties"]["EnableKeyRotation"] is True


@pytest.mark.parametrize("name", [BUCKET_TEMPLATE])
def test_every_bucket_blocks_public_access_and_acls(name: str) -> None:
    buckets = resources(name, "AWS::S3::Bucket")
    assert len(buckets) >= 2  # evidence + access logs
    for lid, bucket in buckets.items():
        block = bucket["Properties"]["PublicAccessBlockConfiguration"]
        flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                 "RestrictPublicBuckets")
        assert all(block.get(flag) is True for flag in flags), lid
        rules = bucket["Properties"]["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}], lid


def test_every_bucket_denies_requests_without_tls() -> None:
    for lid in resources(BUCKET_TEMPLATE, "AWS::S3::Bucket"):
        statements = bucket_policy_for(BUCKET_TEMPLATE, lid)
        assert any(
            st["Effect"] == "Deny" and st["Principal"] in ("*", {"AWS": "*"})
            and "s3:*" in as_list(st["Action"])
            and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for st in statements
        ), f"{lid}: no TLS-only Deny"


def test_puts_with_another_encryption_or_key_are_denied() -> None:
    statements = bucket_policy_for(BUCKET_TEMPLATE, "EvidenceBucket")
    denies = [st for st in statements
              if st["Effect"] == "Deny" and "s3:PutObject" in as_list(st["Action"])]

    def conditions(st: dict[str, Any]) -> dict[str, Any]:
        return {k: v for block in st.get("Condition", {}).values() for k, v in block.items()}

    assert any(conditions(st).get("s3:x-amz-server-side-encryption") == "aws:kms"
               for st in denies)
    key_ids = [conditions(st).get("s3:x-amz-server-side-encryption-aws-kms-key-id")
               for st in denies]
    assert any(refers_to(k, "EvidenceKey") for k in key_ids if k is not None)
    assert any("s3:x-amz-server-side-encryption-customer-algorithm" in conditions(st)
               for st in denies)


def test_only_the_destruction_job_principal_may_delete_by_bucket_policy() -> None:
    statements = bucket_policy_for(BUCKET_TEMPLATE, "EvidenceBucket")
    assert any(
        st["Effect"] == "Deny" and "s3:DeleteObjectVersion" in as_list(st["Action"])
        and st["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == {"Ref": "DestructionJobRoleArn"}
        for st in statements
    )
    deny_all = [set(as_list(st["Action"])) for st in statements
                if st["Effect"] == "Deny" and "Condition" not in st]
    assert any(set(FORBIDDEN) <= actions for actions in deny_all)


def test_lifecycle_aborts_uploads_and_never_expires_versions() -> None:
    rules = evidence_bucket()["Properties"]["LifecycleConfiguration"]["Rules"]
    assert all(r["Status"] == "Enabled" for r in rules)
    assert any(r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 7
               for r in rules)
    assert any(r.get("ExpiredObjectDeleteMarker") is True for r in rules)
    for r in rules:
        for never in ("ExpirationInDays", "ExpirationDate", "NoncurrentVersionExpiration",
                      "NoncurrentVersionExpirationInDays", "Transitions", "Transition"):
            assert never not in r, f"evidence lifecycle must not {never}"


def test_access_logging_to_a_separate_bucket() -> None:
    logging = evidence_bucket()["Properties"]["LoggingConfiguration"]
    target = logging["DestinationBucketName"]
    assert target == {"Ref": "AccessLogBucket"}
    assert "AccessLogBucket" in resources(BUCKET_TEMPLATE, "AWS::S3::Bucket")


def test_bucket_and_key_are_retained() -> None:
    res = load(BUCKET_TEMPLATE)["Resources"]
    for lid, r in res.items():
        if r["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key"):
            assert r.get("DeletionPolicy") == "Retain", lid
            assert r.get("UpdateReplacePolicy") == "Retain", lid


def test_outputs_name_bucket_key_and_vault_store_url() -> None:
    outputs = load(BUCKET_TEMPLATE)["Outputs"]
    assert outputs["BucketName"]["Value"] == {"Ref": "EvidenceBucket"}
    assert refers_to(outputs["KmsKeyArn"]["Value"], "EvidenceKey")
    url = outputs["VaultStoreUrl"]["Value"]["Fn::Sub"]
    assert url == "s3://${EvidenceBucket}/${KeyPrefix}?region=${AWS::Region}"


# --------------------------------------------------------------------------- policies

def test_no_policy_grants_lock_bypass_bucket_deletion_or_wildcards() -> None:
    seen = 0
    for name, where, st in all_statements():
        seen += 1
        actions = allowed_actions([st])
        for action in actions:
            assert action != "*" and action.lower() != "s3:*", f"{name}{where}: {action}"
        for forbidden in FORBIDDEN:
            assert not grants(actions, forbidden), f"{name}{where} grants {forbidden}"
    assert seen > 10


def test_exporter_is_read_only() -> None:
    actions = allowed_actions(role_statements("exporter"))
    assert {a.lower() for a in actions} == {"s3:listbucket", "s3:getobject", "kms:decrypt"}
    for action in PUT_OR_DELETE:
        assert not grants(actions, action), action


def test_only_the_destruction_job_deletes_versions() -> None:
    for role in ROLE_POLICIES:
        actions = allowed_actions(role_statements(role))
        assert grants(actions, "s3:DeleteObjectVersion") == (role == "destruction-job"), role
    for name, where, st in all_statements():
        if grants(allowed_actions([st]), "s3:DeleteObjectVersion"):
            assert where.startswith(f"/{ROLE_POLICIES['destruction-job']}/"), (name, where)


def test_destruction_job_cannot_read_payloads_or_change_protection() -> None:
    statements = role_statements("destruction-job")
    actions = allowed_actions(statements)
    for action in ("s3:GetObject", "kms:Decrypt", "kms:GenerateDataKey", "s3:PutObject",
                   "s3:PutObjectRetention"):
        assert not grants(actions, action), action
    denied = {a for st in statements if st["Effect"] == "Deny" for a in as_list(st["Action"])}
    assert "s3:GetObject" in denied and "s3:PutObjectRetention" in denied


def test_destruction_job_has_exactly_what_destroying_needs() -> None:
    """List versions, read their lock state, delete them by version id, release a stale
    legal-hold flag (never place one, never shorten a lock)."""
    statements = role_statements("destruction-job")
    actions = allowed_actions(statements)
    for action in ("s3:DeleteObjectVersion", "s3:ListBucketVersions", "s3:PutObjectLegalHold",
                   "s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectVersion"):
        assert grants(actions, action), action
    holds = [st for st in statements if st["Effect"] == "Allow"
             and grants(set(as_list(st["Action"])), "s3:PutObjectLegalHold")]
    assert holds and all(set(as_list(st["Action"])) == {"s3:PutObjectLegalHold"}
                         and st["Condition"] == {"StringEquals": {
                             "s3:object-lock-legal-hold": "OFF"}} for st in holds)


def test_consultant_extends_protection_but_never_deletes() -> None:
    statements = role_statements("consultant")
    actions = allowed_actions(statements)
    for action in ("s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:AbortMultipartUpload",
                   "s3:PutObjectRetention", "s3:PutObjectLegalHold", "kms:GenerateDataKey"):
        assert grants(actions, action), action
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
        assert not grants(actions, action), action
    retention = [st for st in statements if st["Effect"] == "Allow"
                 and "s3:PutObjectRetention" in as_list(st["Action"])]
    assert retention and all(
        st["Condition"]["StringEquals"]["s3:object-lock-mode"] == "COMPLIANCE"
        for st in retention)
    holds = [st for st in statements if st["Effect"] == "Allow"
             and "s3:PutObjectLegalHold" in as_list(st["Action"])]
    assert holds and all(
        st["Condition"]["StringEquals"]["s3:object-lock-legal-hold"] == "ON" for st in holds)


def test_key_policy_uses_are_limited_to_the_roles() -> None:
    (key,) = resources(BUCKET_TEMPLATE, "AWS::KMS::Key").values()
    statements = as_list(key["Properties"]["KeyPolicy"]["Statement"])
    by_principal: dict[str, set[str]] = {}
    for st in statements:
        if st["Effect"] != "Allow":
            continue
        principal = st["Principal"]["AWS"]
        label = principal["Ref"] if isinstance(principal, dict) and "Ref" in principal else "root"
        by_principal.setdefault(label, set()).update(as_list(st["Action"]))
    assert not grants(by_principal["root"], "kms:Decrypt")
    assert not grants(by_principal["root"], "kms:ScheduleKeyDeletion")
    assert by_principal["ConsultantRoleArn"] == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert by_principal["ExporterRoleArn"] == {"kms:Decrypt"}
    assert "DestructionJobRoleArn" not in by_principal
    assert any(st["Effect"] == "Deny" and "kms:ScheduleKeyDeletion" in as_list(st["Action"])
               for st in statements)
