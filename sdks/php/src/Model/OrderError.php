<?php

declare(strict_types=1);

namespace Ftmv\Model;

/** Why a failed order failed, in terms a user can act on. */
final class OrderError
{
    /** @param array<string, mixed> $raw */
    public function __construct(
        public readonly string $code,
        public readonly string $message,
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self((string) ($data['code'] ?? ''), (string) ($data['message'] ?? ''), $data);
    }
}
