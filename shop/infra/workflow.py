"""The order workflow: a Standard state machine, its two Lambda steps and direct integrations.

Approved:  OrderReceivedEmail -> RequestApproval (waits for the owner) -> MarkShipped ->
           ShipmentEmail -> WaitBeforeFeedback -> FeedbackEmail -> MarkFeedbackRequested -> done
Rejected or no answer in time: -> Rejected | TimedOut -> DeleteOrder -> CancellationEmail -> done
A step still failing after its retries: -> RecordFailure (status FAILED; nothing to mark once the
           order was deleted) -> OrderFailed, or OrderFailedUnrecorded when the mark itself kept failing

Emails need templates, so they are a Lambda; status changes and the deletion are direct
DynamoDB integrations (no Lambda to pay for). Durations come from the execution input, which the
order API fills from its configuration, so one definition serves a 24-hour deployment and a
two-second test.
"""

from __future__ import annotations

from typing import TypeVar, cast

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from shop.domain.orders import APPROVAL_FIELDS
from shop.domain.status import OrderStatus
from shop.domain.workflow_contract import CANCELLATION_ERROR, REJECTION_ERROR, TRANSIENT_ERROR, Outcome, State
from shop.infra import nag
from shop.infra.lambda_bundle import ShopCode
from shop.infra.naming import retained_log_group, vended_log_group_name
from shop.infra.storage import grant_items
from shop.settings import Env

ORDER_ID = sfn.JsonPath.string_at("$.order.orderId")
# DynamoDB errors worth retrying: throttling and AWS-side faults; a failed condition is not one.
DYNAMODB_TRANSIENT_ERRORS = [
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.ThrottlingException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.InternalServerErrorException",
    # The same 500 under its wire name (DynamoDB's error code `InternalServerError`), which local
    # mode's engine gives it: AWS's integration names errors after its SDK's exception classes, and
    # which of the two it uses for this one is not documented. Retrying both cannot be wrong.
    "DynamoDB.InternalServerError",
    "DynamoDB.AmazonDynamoDBException",
]
# Lambda steps: the service's own transient faults and throttling, plus our handlers'
# TransientError (AWS throttled or failed a call after the SDK's retries). Never States.ALL:
# that would retry a rejection or the approval timeout.
LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    TRANSIENT_ERROR,
]
_Task = TypeVar("_Task", bound=sfn.TaskStateBase)


def _lambda_retried(task: _Task) -> _Task:
    """A Lambda step with the one retry policy of every Lambda step: 2, 4, 8 s, then the catch."""
    task.add_retry(errors=LAMBDA_TRANSIENT_ERRORS, interval=cdk.Duration.seconds(2), max_attempts=3, backoff_rate=2)
    return task


def _dynamodb_retried(task: _Task) -> _Task:
    """A DynamoDB step with the one retry policy of every DynamoDB step (1 s first, 4 attempts)."""
    task.add_retry(errors=DYNAMODB_TRANSIENT_ERRORS, max_attempts=4, backoff_rate=2)
    return task


def _logical_id(construct: Construct) -> str:
    """The logical id of a construct's CloudFormation resource, as cdk-nag writes it in a finding."""
    stack = cdk.Stack.of(construct)
    return stack.resolve(stack.get_logical_id(cast(cdk.CfnElement, construct.node.default_child)))


class OrderWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: ShopCode,
        orders: dynamodb.ITable,
        owner_topic: sns.ITopic,
        signing_key: secretsmanager.ISecret,
        sender_email: str,
        approval_url: str,
        state_machine_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.customer_email = code.function(
            self,
            "CustomerEmail",
            handler="customer_email",
            description="Renders and sends the customer's order emails",
            environment={Env.SENDER_EMAIL: sender_email},
        )
        # SES authorizes SendEmail against the sender's identity and, while the account is in the
        # SES sandbox (every new account), against each recipient's identity too: any identity,
        # as long as the mail is from our sender.
        self.customer_email.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=[cdk.Stack.of(self).format_arn(service="ses", resource="identity", resource_name="*")],
                conditions={"StringEquals": {"ses:FromAddress": sender_email}},
            )
        )
        nag.acknowledge(
            self.customer_email,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
            "In the SES sandbox SES authorizes SendEmail against every recipient's identity as well as the "
            "sender's; the statement is scoped by its condition instead: only mail from the shop's sender",
        )
        self.approval_request = code.function(
            self,
            "ApprovalRequest",
            handler="approval_request",
            description="Sends the owner the approve/reject links for an order",
            environment={
                Env.ORDERS_TABLE: orders.table_name,
                Env.OWNER_TOPIC_ARN: owner_topic.topic_arn,
                Env.APPROVAL_URL: approval_url,
                Env.LINK_SIGNING_SECRET: signing_key.secret_arn,
            },
        )
        grant_items(orders, self.approval_request, "dynamodb:UpdateItem")
        owner_topic.grant_publish(self.approval_request)
        self.approval_request.add_to_role_policy(  # read only: grant_read adds DescribeSecret
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[signing_key.secret_arn]))

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(self._definition(orders)),
            logs=sfn.LogOptions(
                destination=retained_log_group(
                    self, "Logs", name=vended_log_group_name("states", state_machine_name)),
                # Every event, for troubleshooting and audit (cdk-nag AwsSolutions-SF1): a dozen small
                # events per order, since they carry no execution data.
                level=sfn.LogLevel.ALL,
                # Execution data holds the task token: keep it out of the logs.
                include_execution_data=False,
            ),
            tracing_enabled=True,
        )
        # cdk-nag: each wildcard in the policy of the state machine's role (a child construct), reviewed.
        for function in (self.customer_email, self.approval_request):
            nag.acknowledge(
                self.state_machine,
                f"AwsSolutions-IAM5[Resource::<{_logical_id(function)}.Arn>:*]",
                "Added by the LambdaInvoke task's grant: invoke this one function of the stack, unqualified "
                "or any of its versions/aliases (its ARN + ':*'), nothing else",
            )
        nag.acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Only actions AWS grants on '*' alone: X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, "
            "GetSamplingRules, GetSamplingTargets) and the CloudWatch Logs log delivery that Step Functions "
            "logging uses (logs:*LogDelivery*, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups)",
        )
        # Retries exhausted: the order is marked FAILED and the execution fails; tell the owner.
        self.failures_alarm = cloudwatch.Alarm(
            self,
            "FailedExecutions",
            alarm_description="An order's workflow failed after its retries; see orders with status FAILED",
            metric=self.state_machine.metric_failed(period=cdk.Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failures_alarm.add_alarm_action(cloudwatch_actions.SnsAction(owner_topic))
        # The topic's policy (enforce_ssl) replaces SNS's default one, which let the account's
        # services publish: without this statement CloudWatch is denied and the alarm is silent.
        owner_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsMayNotifyTheOwner",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[owner_topic.topic_arn],
                conditions={"ArnEquals": {"aws:SourceArn": self.failures_alarm.alarm_arn}},
            )
        )

    def _email(self, state_id: str, template: str, **extra: str) -> tasks.LambdaInvoke:
        return _lambda_retried(tasks.LambdaInvoke(
            self,
            state_id,
            lambda_function=self.customer_email,
            payload=sfn.TaskInput.from_object(
                {"template": template, "order": sfn.JsonPath.object_at("$.order"), **extra}
            ),
            result_path=sfn.JsonPath.DISCARD,
            retry_on_service_exceptions=False,
        ))

    def _set_status(self, state_id: str, orders: dynamodb.ITable, status: str) -> tasks.DynamoUpdateItem:
        update = tasks.DynamoUpdateItem(
            self,
            state_id,
            table=orders,
            key={"orderId": tasks.DynamoAttributeValue.from_string(ORDER_ID)},
            # Every status the workflow sets is past the approval: whichever of the workflow and the
            # decision's own bookkeeping gets to the order first, the token leaves with it.
            update_expression="SET #status = :status, updatedAt = :now REMOVE " + ", ".join(APPROVAL_FIELDS),
            # Never resurrect a deleted order: UpdateItem would create it.
            condition_expression="attribute_exists(orderId)",
            expression_attribute_names={"#status": "status"},
            expression_attribute_values={
                ":status": tasks.DynamoAttributeValue.from_string(status),
                ":now": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.state_entered_time),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        return _dynamodb_retried(update)

    def _definition(self, orders: dynamodb.ITable) -> sfn.IChainable:
        # Retries exhausted anywhere: mark the order FAILED (visible to the owner), then fail.
        order_failed = sfn.Fail(self, "OrderFailed", error="OrderFailed",
                                cause="A step kept failing after its retries; the order is marked FAILED")
        # A step after DeleteOrder (the cancellation email) can fail too: there is no order left to
        # mark, its condition fails, and the execution must still end as OrderFailed (the alarm, the
        # owner's tools), not with the condition's error.
        # RecordFailure itself can run out of retries (a DynamoDB throttling burst): the order's record
        # then still says where it stood (AWAITING_APPROVAL, SHIPPED...), with its task token. The
        # execution still fails as OrderFailed, saying so; the owner's tools and the link pages read
        # the order's status from the ended execution (shop.domain.status.status_of).
        unrecorded = sfn.Fail(self, "OrderFailedUnrecorded", error="OrderFailed",
                              cause="A step kept failing after its retries, and so did marking the order FAILED: "
                              "its record is out of date, and this execution is the record of the failure")
        failed = (
            self._set_status("RecordFailure", orders, OrderStatus.FAILED)
            .add_catch(order_failed, errors=["DynamoDB.ConditionalCheckFailedException"],
                       result_path=sfn.JsonPath.DISCARD)
            .add_catch(unrecorded, errors=[sfn.Errors.ALL], result_path=sfn.JsonPath.DISCARD)
            .next(order_failed)
        )

        def guarded(task: sfn.TaskStateBase) -> sfn.TaskStateBase:
            return task.add_catch(failed, errors=[sfn.Errors.ALL], result_path="$.failure")

        request_approval = _lambda_retried(tasks.LambdaInvoke(
            self,
            State.REQUEST_APPROVAL,
            lambda_function=self.approval_request,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {
                    "taskToken": sfn.JsonPath.task_token,
                    "order": sfn.JsonPath.object_at("$.order"),
                    "approvalTimeoutSeconds": sfn.JsonPath.number_at("$.approvalTimeoutSeconds"),
                    # The links' deadline counts from here, as the task's timeout does.
                    "waitingSince": sfn.JsonPath.string_at("$$.State.EnteredTime"),
                }
            ),
            task_timeout=sfn.Timeout.at("$.approvalTimeoutSeconds"),
            result_path="$.approval",
            retry_on_service_exceptions=False,
        ))

        delete_order = _dynamodb_retried(tasks.DynamoDeleteItem(
            self,
            "DeleteOrder",
            table=orders,
            key={"orderId": tasks.DynamoAttributeValue.from_string(ORDER_ID)},
            result_path=sfn.JsonPath.DISCARD,
        ))
        cancel = (
            guarded(delete_order)
            .next(guarded(self._email("CancellationEmail", "shipment_cancelled",
                                      outcome=sfn.JsonPath.string_at("$.outcome"))))
            .next(
                sfn.Pass(
                    self,
                    "OrderCancelled",
                    parameters={"orderId": ORDER_ID, "outcome": sfn.JsonPath.string_at("$.outcome")},
                )
            )
        )
        rejected = sfn.Pass(
            self, State.REJECTED, result=sfn.Result.from_string(Outcome.REJECTED), result_path="$.outcome"
        ).next(cancel)
        timed_out = sfn.Pass(
            self, State.TIMED_OUT, result=sfn.Result.from_string(Outcome.TIMED_OUT), result_path="$.outcome"
        ).next(cancel)
        cancelled = sfn.Pass(
            self, State.CANCELLED, result=sfn.Result.from_string(Outcome.CANCELLED), result_path="$.outcome"
        ).next(cancel)  # all three outcomes share the cancellation path
        # Order matters: the business outcomes first, then anything else as a failure.
        request_approval.add_catch(rejected, errors=[REJECTION_ERROR], result_path=sfn.JsonPath.DISCARD)
        request_approval.add_catch(cancelled, errors=[CANCELLATION_ERROR], result_path=sfn.JsonPath.DISCARD)
        request_approval.add_catch(timed_out, errors=[sfn.Errors.TIMEOUT], result_path=sfn.JsonPath.DISCARD)

        return (
            guarded(self._email("OrderReceivedEmail", "order_received"))
            .next(guarded(request_approval))
            .next(guarded(self._set_status(State.MARK_SHIPPED, orders, OrderStatus.SHIPPED)))
            .next(guarded(self._email("ShipmentEmail", "shipment_confirmed")))
            .next(
                sfn.Wait(
                    self, State.WAIT_BEFORE_FEEDBACK, time=sfn.WaitTime.seconds_path("$.feedbackDelaySeconds")
                )
            )
            .next(guarded(self._email("FeedbackEmail", "feedback_request")))
            .next(guarded(self._set_status("MarkFeedbackRequested", orders, OrderStatus.FEEDBACK_REQUESTED)))
            .next(
                sfn.Pass(
                    self,
                    "OrderCompleted",
                    parameters={"orderId": ORDER_ID, "outcome": Outcome.APPROVED},
                )
            )
        )
