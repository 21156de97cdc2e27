<?php

declare(strict_types=1);

namespace Ftmv\Model;

final class Pagination
{
    /** @param array<string, mixed> $raw */
    public function __construct(
        public readonly int $page,
        public readonly int $page_size,
        public readonly int $total,
        public readonly ?string $next = null,
        public readonly ?string $previous = null,
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self(
            (int) $data['page'],
            (int) $data['page_size'],
            (int) $data['total'],
            $data['next'] ?? null,
            $data['previous'] ?? null,
            $data,
        );
    }
}
