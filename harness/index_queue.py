"""The index queue for tests and benchmarks: an SQS queue with a dead-letter queue on the moto server, and a
poller that does what Lambda's SQS event source mapping does.

:func:`poll_once` receives up to ``batch_size`` messages, hands them to a handler as the SQS event Lambda
builds (``Records`` with ``messageId``, ``receiptHandle``, ``body``, ``attributes.ApproximateReceiveCount``,
``eventSource: aws:sqs``), then deletes the messages the answer's ``batchItemFailures`` does not name. The
failed ones become visible again after the visibility timeout; past ``maxReceiveCount`` deliveries SQS's
redrive policy moves them to the dead-letter queue.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from harness.s3 import S3Endpoint

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class IndexQueue:
    url: str
    arn: str
    dlq_url: str
    sqs: Any

    def dead_letters(self) -> list[dict[str, Any]]:
        """The messages in the dead-letter queue (left there)."""
        answer = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"]
        )
        return list(answer.get("Messages", []))

    def waiting(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


def sqs_client(endpoint: S3Endpoint) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint.url,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        region_name="us-east-1",
    )


def create_index_queue(
    endpoint: S3Endpoint, *, max_receive_count: int = 3, visibility: int = 0
) -> IndexQueue:
    """A fresh queue (visibility timeout ``visibility`` seconds) and its DLQ."""
    sqs = sqs_client(endpoint)
    name = f"frs-index-{uuid.uuid4().hex[:10]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})
    url = sqs.create_queue(
        QueueName=name, Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": str(visibility)}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return IndexQueue(url, arn, dlq_url, sqs)


def sqs_event(messages: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def poll_once(sqs: Any, url: str, arn: str, handler: Handler, *, batch_size: int = 1, wait: int = 0) -> int:
    """One receive -> invoke -> delete round; returns how many messages were received."""
    answer = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=batch_size, WaitTimeSeconds=wait, AttributeNames=["All"]
    )
    messages = answer.get("Messages", [])
    if not messages:
        return 0
    result = handler(sqs_event(messages, arn))
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    return len(messages)


def drain(queue: IndexQueue, handler: Handler, *, batch_size: int = 1, max_rounds: int = 1000) -> int:
    """Poll until the queue is empty (failed messages come back at once: visibility 0)."""
    received = 0
    for _ in range(max_rounds):
        got = poll_once(queue.sqs, queue.url, queue.arn, handler, batch_size=batch_size)
        if not got and queue.waiting() == 0:
            return received
        received += got
    raise AssertionError(f"the queue was not empty after {max_rounds} rounds")
