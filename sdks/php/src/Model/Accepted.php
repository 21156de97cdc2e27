<?php

declare(strict_types=1);

namespace Ftmv\Model;

/** 202 of POST /generate: the order is created and queued. Property names are the API's. */
final class Accepted
{
    /** @param array<string, mixed> $raw the JSON it was built from (fields this version does not know too) */
    public function __construct(
        public readonly int $order_id,
        public readonly string $status,
        public readonly int $credits_used,
        public readonly string $message,
        public readonly string $estimated_time,
        public readonly string $created_at,
        /** @var list<string>|null only when the server ignored part of the request */
        public readonly ?array $warnings = null,
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self(
            (int) $data['order_id'],
            (string) $data['status'],
            (int) $data['credits_used'],
            (string) ($data['message'] ?? ''),
            (string) ($data['estimated_time'] ?? ''),
            (string) $data['created_at'],
            isset($data['warnings']) && is_array($data['warnings']) ? array_values(array_map('strval', $data['warnings'])) : null,
            $data,
        );
    }
}
