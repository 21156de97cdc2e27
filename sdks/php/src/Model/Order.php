<?php

declare(strict_types=1);

namespace Ftmv\Model;

/** GET /orders/{id}. Which optional properties are set depends on $status. Times are ISO 8601 strings. */
final class Order
{
    /**
     * @param 'virtual_tryon'|'product_catalog' $style
     * @param 'pending'|'in_progress'|'completed'|'failed' $status
     * @param array<string, mixed> $raw
     */
    public function __construct(
        public readonly int $id,
        public readonly string $style,
        public readonly string $status,
        public readonly int $credits_used,
        public readonly string $created_at,
        public readonly ?int $progress = null,
        public readonly ?string $stage = null,
        public readonly ?string $estimated_completion = null,
        public readonly ?OrderResults $results = null,
        public readonly ?string $completed_at = null,
        public readonly ?int $processing_time = null,
        public readonly ?OrderError $error = null,
        public readonly ?string $failed_at = null,
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self(
            (int) $data['id'],
            (string) ($data['style'] ?? ''),
            (string) $data['status'],
            (int) $data['credits_used'],
            (string) $data['created_at'],
            isset($data['progress']) ? (int) $data['progress'] : null,
            $data['stage'] ?? null,
            $data['estimated_completion'] ?? null,
            is_array($data['results'] ?? null) ? OrderResults::fromArray($data['results']) : null,
            $data['completed_at'] ?? null,
            isset($data['processing_time']) ? (int) $data['processing_time'] : null,
            is_array($data['error'] ?? null) ? OrderError::fromArray($data['error']) : null,
            $data['failed_at'] ?? null,
            $data,
        );
    }

    public function isFinished(): bool
    {
        return $this->status === 'completed' || $this->status === 'failed';
    }
}
