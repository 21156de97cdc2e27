<?php

declare(strict_types=1);

namespace Ftmv\Model;

/** GET /orders: one page of the caller's orders, newest first. */
final class OrderList
{
    /**
     * @param list<Order> $orders
     * @param array<string, mixed> $raw
     */
    public function __construct(
        public readonly array $orders,
        public readonly Pagination $pagination,
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self(
            array_map(static fn (array $order): Order => Order::fromArray($order), $data['orders'] ?? []),
            Pagination::fromArray($data['pagination']),
            $data,
        );
    }
}
