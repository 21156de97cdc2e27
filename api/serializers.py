"""The API's response shapes, declared for the OpenAPI document (the views build the JSON with
tryon.presenters; tests/api/test_contract.py holds the golden shapes)."""

from __future__ import annotations

from rest_framework import serializers

from tryon.models import Order


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = ErrorDetailSerializer()


class AcceptedSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    order_id = serializers.IntegerField()
    status = serializers.CharField()
    credits_used = serializers.IntegerField()
    message = serializers.CharField()
    estimated_time = serializers.CharField()
    created_at = serializers.DateTimeField()
    warnings = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Only when something in the request was ignored: unknown option keys, fields the style "
        "does not use. The order was accepted without them.",
    )


class OrderResultsSerializer(serializers.Serializer):
    person_url = serializers.URLField(required=False)
    clothing_url = serializers.URLField(required=False)
    result_url = serializers.URLField(required=False)
    product_url = serializers.URLField(required=False)
    catalog_images = serializers.ListField(child=serializers.URLField(), required=False)
    quantity = serializers.IntegerField(required=False)
    product_description = serializers.CharField(required=False)


class OrderErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    # api.md's field name; it shadows DRF's Field.style (browsable-API hints) only in the type stubs: the
    # serializer metaclass takes declared fields off the class.
    style = serializers.CharField()  # type: ignore[assignment]
    status = serializers.ChoiceField(Order.Status.values)
    credits_used = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    progress = serializers.IntegerField(required=False, help_text="pending / in_progress")
    stage = serializers.CharField(required=False, help_text="pending / in_progress")
    estimated_completion = serializers.DateTimeField(required=False, help_text="pending / in_progress")
    results = OrderResultsSerializer(required=False, help_text="completed")
    completed_at = serializers.DateTimeField(required=False, help_text="completed")
    processing_time = serializers.IntegerField(required=False, help_text="completed: seconds")
    error = OrderErrorSerializer(required=False, help_text="failed")
    failed_at = serializers.DateTimeField(required=False, help_text="failed")


class OrderResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    order = OrderSerializer()


class PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class OrderListSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    orders = OrderSerializer(many=True)
    pagination = PaginationSerializer()


class AccountInfoSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    credits_remaining = serializers.IntegerField()
    api_calls_today = serializers.IntegerField()
    api_calls_total = serializers.IntegerField()
    plan = serializers.CharField()


class RateLimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField()
    remaining = serializers.IntegerField()
    reset = serializers.IntegerField(help_text="Unix time")


class WebhookInfoSerializer(serializers.Serializer):
    signing_secret = serializers.CharField()


class AccountSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    account = AccountInfoSerializer()
    rate_limit = RateLimitSerializer()
    webhook = WebhookInfoSerializer()
