<?php

declare(strict_types=1);

namespace Ftmv\Model;

final class AccountInfo
{
    /** @param array<string, mixed> $raw */
    public function __construct(
        public readonly int $user_id,
        public readonly int $credits_remaining,
        public readonly int $api_calls_today,
        public readonly int $api_calls_total,
        public readonly string $plan,
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self(
            (int) $data['user_id'],
            (int) $data['credits_remaining'],
            (int) $data['api_calls_today'],
            (int) $data['api_calls_total'],
            (string) $data['plan'],
            $data,
        );
    }
}
