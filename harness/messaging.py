"""SNS and SQS for tests, on the same moto server as S3 (harness/s3.py serves every moto service).

:func:`subscribed_queue` makes a topic and an SQS queue subscribed to it (the usual way to consume alerts);
:meth:`AlertQueue.drain` returns what actually arrived: each SNS envelope's parsed ``Message`` and its
``MessageAttributes``, as a subscriber sees them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from harness.s3 import S3Endpoint


@dataclass(frozen=True)
class Delivered:
    message: dict[str, Any]
    attributes: dict[str, str]  # name -> value


@dataclass
class AlertQueue:
    topic_arn: str
    queue_url: str
    sqs: Any

    def drain(self, wait_seconds: int = 0) -> list[Delivered]:
        """Every message waiting in the queue (deleted as read), oldest first."""
        out: list[Delivered] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            )
            batch = answer.get("Messages", [])
            if not batch:
                return out
            for item in batch:
                envelope = json.loads(item["Body"])
                attributes = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
                out.append(Delivered(json.loads(envelope["Message"]), attributes))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=item["ReceiptHandle"])
            wait_seconds = 0


def _client(service: str, endpoint: S3Endpoint) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint.url,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        region_name="us-east-1",
    )


def subscribed_queue(endpoint: S3Endpoint) -> AlertQueue:
    """A fresh SNS topic with a fresh SQS queue subscribed to it (raw delivery off: SNS envelopes)."""
    suffix = uuid.uuid4().hex[:12]
    sns, sqs = _client("sns", endpoint), _client("sqs", endpoint)
    topic_arn = sns.create_topic(Name=f"frs-alerts-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"frs-alerts-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return AlertQueue(topic_arn, queue_url, sqs)
